//go:build faults

package realtime_test

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/testenv"
)

// redisServer is a Redis a fault test may stop and start: a miniredis, or a redis-server process
// of this test's own (never the shared one).
type redisServer interface {
	Addr() string
	Stop(t *testing.T)
	Start(t *testing.T) // empty, like a redis-server without persistence after a crash
}

type miniServer struct{ m *miniredis.Miniredis }

func (s *miniServer) Addr() string      { return s.m.Addr() }
func (s *miniServer) Stop(t *testing.T) { s.m.Close() }
func (s *miniServer) Start(t *testing.T) {
	s.m.FlushAll()
	if err := s.m.Restart(); err != nil {
		t.Fatal(err)
	}
}

type procServer struct {
	port int
	cmd  *exec.Cmd
	dir  string
}

func (s *procServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *procServer) Start(t *testing.T) {
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 100 {
			t.Fatal("own redis-server does not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *procServer) Stop(t *testing.T) {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func servers(t *testing.T) map[string]func(t *testing.T) redisServer {
	return map[string]func(t *testing.T) redisServer{
		testenv.NameEmbedded: func(t *testing.T) redisServer {
			m := miniredis.NewMiniRedis()
			if err := m.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(m.Close)
			return &miniServer{m}
		},
		testenv.NameReal: func(t *testing.T) redisServer {
			if _, err := exec.LookPath("redis-server"); err != nil {
				t.Fatalf("redis-server not installed (testenv/real.sh installs it): %v", err)
			}
			s := &procServer{port: freePort(t), dir: t.TempDir()}
			s.Start(t)
			t.Cleanup(func() { s.Stop(t) })
			return s
		},
	}
}

// TestRedisOutage: Redis goes down while the clickstream is processed and stays down for 30 s
// while the transactions are replayed; it comes back EMPTY (no persistence). Processing goes on
// meanwhile (the late topic and the table keep moving), and once Redis is back the sink notices
// the missing marker, rebuilds from the table and Redis equals the truth exactly.
func TestRedisOutage(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, mk := range servers(t) {
		t.Run(name, func(t *testing.T) {
			srv := mk(t)
			k := testenv.EmbeddedKafka(t)
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
			defer rdb.Close()
			prefix := "outage:"
			cfg := pipelineConfig(t, k, prefix)
			if _, err := cfg.EnsureTopics(4); err != nil {
				t.Fatal(err)
			}
			stop := startPipeline(t, cfg, realtime.RunSettings{Redis: rdb,
				RedisOptions: []redissink.Option{redissink.WithFlushInterval(100 * time.Millisecond)}})
			defer stop()
			replayDataset(t, cfg, dir, generate.DatasetActivity)
			time.Sleep(2 * time.Second)
			srv.Stop(t)
			down := time.Now()
			replayDataset(t, cfg, dir, generate.DatasetTransactions)
			time.Sleep(30*time.Second - time.Since(down))
			srv.Start(t)
			back := time.Now()
			waitForTruth(t, cfg, rdb, prefix, truth, 2*time.Minute)
			t.Logf("Redis down %v; equal to the truth %v after it came back (empty)", back.Sub(down).Round(time.Second),
				time.Since(back).Round(time.Millisecond))
		})
	}
}

// TestEmptyRedisRebuilt: after the pipeline has written everything, every key under the prefix is
// deleted (what a restart without persistence leaves); the sink rebuilds Redis from the table.
func TestEmptyRedisRebuilt(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachRedis(t, func(t *testing.T, r testenv.Redis) {
		k := testenv.EmbeddedKafka(t)
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer rdb.Close()
		prefix := testenv.KeyPrefix(t, r)
		cfg := pipelineConfig(t, k, prefix)
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		stop := startPipeline(t, cfg, realtime.RunSettings{Redis: rdb,
			RedisOptions: []redissink.Option{redissink.WithFlushInterval(100 * time.Millisecond)}})
		defer stop()
		replayHistory(t, cfg, dir)
		waitForTruth(t, cfg, rdb, prefix, truth, 2*time.Minute)
		ctx := context.Background()
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err != nil || len(keys) < len(truth.Minutes) {
			t.Fatalf("%d keys under %s, %v", len(keys), prefix, err)
		}
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Fatal(err)
		}
		emptied := time.Now()
		waitForTruth(t, cfg, rdb, prefix, truth, time.Minute)
		t.Logf("%d keys deleted; rebuilt from the table in %v", len(keys), time.Since(emptied).Round(time.Millisecond))
	})
}
