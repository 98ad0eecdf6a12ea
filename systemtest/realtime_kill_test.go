package systemtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

// TestRealtimeKillRestartIsExact (issue 7): `shopease run` writing the real-time metrics to a real
// redis-server, SIGKILLed three times at random moments during a replay on real Kafka and
// restarted each time, ends with exactly the Redis keys and values, the tables (the realtime
// table included) and the outputs (alerts, late events) of an undisturbed run; the undisturbed
// run's Redis holds every minute of the generator's truth.
func TestRealtimeKillRestartIsExact(t *testing.T) {
	hist := generate.Tiny()
	hist.Dir = t.TempDir()
	truth, err := generate.Run(context.Background(), hist, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, r := testenv.RealKafka(t), testenv.RealRedis(t)
	base := testenv.Namespace(t)
	prefix := testenv.KeyPrefix(t, r)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	run := func(name string, kills int) (map[string][]record, map[string]string) {
		ns := base + topology.Namespace(name+".")
		p := prefix + name + ":"
		topics := runRealtimeWithKills(t, k.Brokers(), ns, hist.Dir, r.Addr(), p, kills)
		return topics, readRedisKeys(t, rdb, p)
	}
	calmTopics, calmRedis := run("calm", 0)
	killTopics, killRedis := run("kill", 3)

	compareRuns(t, base+"calm.", calmTopics, base+"kill.", killTopics)
	if rt := string((base + "calm.").Table(topology.RealtimeGroup)); len(tableState(calmTopics[rt])) == 0 {
		t.Errorf("the realtime table of the calm run is empty: the comparison proves nothing")
	}
	minutes := 0
	for _, key := range sortedKeys(calmRedis) {
		if strings.HasPrefix(key, "minute:") {
			minutes++
		}
		if killRedis[key] != calmRedis[key] {
			t.Errorf("Redis %s: killed run %q, calm run %q", key, killRedis[key], calmRedis[key])
		}
	}
	for _, key := range sortedKeys(killRedis) {
		if _, ok := calmRedis[key]; !ok {
			t.Errorf("Redis %s: only after the kills (%q)", key, killRedis[key])
		}
	}
	if minutes != len(truth.Minutes) {
		t.Errorf("calm run: %d minutes in Redis, the truth has %d", minutes, len(truth.Minutes))
	}
	t.Logf("compared %d Redis keys (%d minutes) and every table and output", len(calmRedis), minutes)
}

// runRealtimeWithKills is runWithKills with the real-time metrics going to the Redis at
// redisAddr under prefix: it returns every derived topic once everything is processed and the
// sink has flushed.
func runRealtimeWithKills(t *testing.T, brokers []string, ns topology.Namespace, dir, redisAddr, prefix string, kills int) map[string][]record {
	t.Helper()
	cfg := cluster.Config{Brokers: brokers, Namespace: ns}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, brokers, ns)
	start := func() { startWithRedis(g, redisAddr, prefix) }
	start()
	replayed := make(chan error, 1)
	go func() {
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace, rc.Rate = []string{dir}, brokers, ns, 400
		rc.ManifestPath = filepath.Join(t.TempDir(), "manifest.json")
		rc.RejectsPath = ""
		_, err := replay.Run(context.Background(), rc, nil)
		replayed <- err
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond)
		g.kill()
		t.Logf("%s: SIGKILL %d of %d", ns, i+1, kills)
		start()
	}
	if err := <-replayed; err != nil {
		t.Fatalf("replay: %v", err)
	}
	quiesce(t, g, 3*time.Minute)
	g.stop() // the sink's final flush
	return dumpTopics(t, brokers, ns)
}

// startWithRedis starts g's next `shopease run` as group.start does, writing the metrics to
// Redis.
func startWithRedis(g *group, redisAddr, prefix string) {
	g.t.Helper()
	p := &proc{done: make(chan error, 1)}
	args := []string{"run", "--brokers", strings.Join(g.brokers, ","), "--namespace", string(g.ns),
		"--data-dir", g.dataDir, "--partitions", "4", "--log-level", g.level,
		"--redis", redisAddr, "--redis-prefix", prefix}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "SHOPEASE_PSEUDONYM_KEY="+testKey)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	g.cur = p
	g.logs = append(g.logs, p)
}

// readRedisKeys reads every key under prefix (without it) with its value: a hash as its sorted
// field=value pairs, a sorted set as its members with scores, a string as itself. TTLs are not
// compared: they count down from the last write.
func readRedisKeys(t *testing.T, rdb *redis.Client, prefix string) map[string]string {
	t.Helper()
	ctx := waitCtx(t, time.Minute)
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		typ, err := rdb.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		var val string
		switch typ {
		case "hash":
			h, err := rdb.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			val = fmt.Sprint(h) // fmt sorts map keys
		case "zset":
			zs, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			val = fmt.Sprint(zs)
		default:
			val, err = rdb.Get(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
		}
		out[strings.TrimPrefix(key, prefix)] = val
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
