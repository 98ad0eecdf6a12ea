package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/processors/topology"
)

// Environment variables read by the real environment; `testenv/real.sh env` prints them.
const (
	EnvKafka       = "SHOPEASE_TEST_KAFKA"         // host:port of the real broker
	EnvRedis       = "SHOPEASE_TEST_REDIS"         // host:port of the real redis-server
	EnvRequireReal = "SHOPEASE_REQUIRE_REAL"       // "1": a missing real server fails the test
	EnvKafkaPID    = "SHOPEASE_TEST_KAFKA_PIDFILE" // pid file of the real broker (fault tests)
	EnvRedisPID    = "SHOPEASE_TEST_REDIS_PIDFILE" // pid file of the real redis-server
	EnvScript      = "SHOPEASE_TESTENV_SCRIPT"     // path of real.sh, to restart a killed broker
)

// Names of the two environments; they are also the subtest names of ForEachKafka and ForEachRedis.
const (
	NameEmbedded = "embedded"
	NameReal     = "real"
)

// Kafka is a broker a test can use.
type Kafka interface {
	Brokers() []string
	Name() string // NameEmbedded or NameReal
}

// Redis is a Redis server a test can use.
type Redis interface {
	Addr() string
	Name() string // NameEmbedded or NameReal
}

type kafkaEnv struct {
	brokers []string
	name    string
}

func (k kafkaEnv) Brokers() []string { return k.brokers }
func (k kafkaEnv) Name() string      { return k.name }

type redisEnv struct{ addr, name string }

func (r redisEnv) Addr() string { return r.addr }
func (r redisEnv) Name() string { return r.name }

// ForEachKafka runs f as subtest "embedded" on a fresh kfake cluster, then as subtest "real" on the
// broker started by `make test`.
func ForEachKafka(t *testing.T, f func(t *testing.T, k Kafka)) {
	t.Helper()
	t.Run(NameEmbedded, func(t *testing.T) { f(t, EmbeddedKafka(t)) })
	t.Run(NameReal, func(t *testing.T) { f(t, RealKafka(t)) })
}

// ForEachRedis runs f as subtest "embedded" on a fresh miniredis, then as subtest "real" on the
// redis-server started by `make test`.
func ForEachRedis(t *testing.T, f func(t *testing.T, r Redis)) {
	t.Helper()
	t.Run(NameEmbedded, func(t *testing.T) { f(t, EmbeddedRedis(t)) })
	t.Run(NameReal, func(t *testing.T) { f(t, RealRedis(t)) })
}

// EmbeddedKafka starts a kfake cluster for this test only; it is closed at cleanup.
func EmbeddedKafka(t testing.TB) Kafka {
	t.Helper()
	e := startEmbedded(t)
	return kafkaEnv{brokers: e.Brokers(), name: NameEmbedded}
}

// EmbeddedRedis starts a miniredis for this test only; it is closed at cleanup.
func EmbeddedRedis(t testing.TB) Redis {
	t.Helper()
	e := startEmbedded(t)
	return redisEnv{addr: e.RedisAddr(), name: NameEmbedded}
}

func startEmbedded(t testing.TB) *Embedded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// RealKafka returns the real broker named by SHOPEASE_TEST_KAFKA.
func RealKafka(t testing.TB) Kafka {
	t.Helper()
	addr := realAddr(t, EnvKafka, "Kafka broker")
	return kafkaEnv{brokers: []string{addr}, name: NameReal}
}

// RealRedis returns the real redis-server named by SHOPEASE_TEST_REDIS.
func RealRedis(t testing.TB) Redis {
	t.Helper()
	return redisEnv{addr: realAddr(t, EnvRedis, "redis-server"), name: NameReal}
}

// realAddr reads a server address from env, skipping (or, under SHOPEASE_REQUIRE_REAL=1, failing)
// when it is missing, and failing with a clear message when nothing listens there, so that a dead
// server shows up as one line instead of a client timing out deep inside a test.
func realAddr(t testing.TB, env, what string) string {
	t.Helper()
	addr := os.Getenv(env)
	if addr == "" {
		msg := fmt.Sprintf("testenv: no real %s: %s is not set; run `make test`, which starts one "+
			"(or `bash testenv/real.sh start && eval \"$(bash testenv/real.sh env)\"`)", what, env)
		if RequireReal() {
			t.Fatalf("%s [%s=1 forbids skipping]", msg, EnvRequireReal)
		}
		t.Skip(msg)
	}
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("testenv: real %s at %s=%s does not answer: %v (is `testenv/real.sh status` ok?)", what, env, addr, err)
	}
	_ = conn.Close()
	return addr
}

// RequireReal reports whether SHOPEASE_REQUIRE_REAL=1, i.e. whether real servers are mandatory.
func RequireReal() bool { return os.Getenv(EnvRequireReal) == "1" }

// Namespace returns a topic and group prefix that no other test (in this or another test binary,
// on this or an earlier run against the same broker) uses: "t.<test name>.<random>.". Kafka topic
// names allow [a-zA-Z0-9._-] and 249 characters, so the test name is reduced to that and shortened.
func Namespace(t testing.TB) topology.Namespace {
	t.Helper()
	return topology.Namespace("t." + uniqueName(t) + ".")
}

// KeyPrefix returns a Redis key prefix unique to this test ("t:<test name>:<random>:") and, on
// the real server, deletes every key under it at cleanup. Tests share the real redis-server's
// database 0 and isolate by this prefix; code under test must therefore take a key prefix option.
func KeyPrefix(t testing.TB, r Redis) string {
	t.Helper()
	prefix := "t:" + uniqueName(t) + ":"
	if r.Name() == NameReal {
		t.Cleanup(func() {
			if err := deleteKeys(r.Addr(), prefix); err != nil {
				t.Errorf("testenv: delete Redis keys %s*: %v", prefix, err)
			}
		})
	}
	return prefix
}

func deleteKeys(addr, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("del %d keys: %w", len(keys), err)
	}
	return nil
}

// uniqueName is the test's name reduced to [a-zA-Z0-9-], at most 80 characters, plus 8 random
// hex digits (a rerun of the same test against the same broker must not see the old topics).
func uniqueName(t testing.TB) string {
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			// '.' and '_' collide in Kafka's metric names, so neither is kept from the test name.
			b.WriteByte('-')
		}
	}
	name := b.String()
	if len(name) > 80 {
		name = name[:80]
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return name + "." + hex.EncodeToString(rnd[:])
}
