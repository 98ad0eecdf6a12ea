package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/testenv"
)

// Knobs of BenchmarkStreamRedisLatency.
const (
	envRedisLatencyRate = "BENCH_REDIS_LATENCY_RATE" // raw activity events/s offered (default 2,000)
	envRedisLatencyFor  = "BENCH_REDIS_LATENCY_FOR"  // how long they are offered (default 30s)
	envRedisFlush       = "BENCH_REDIS_FLUSH"        // the sink's flush interval (default: redissink's)
)

// redisWarmUp is the start of a run whose checkpoints are not counted: the group joins, creates
// its outputs and rebuilds Redis first.
const redisWarmUp = 10 * time.Second

// BenchmarkStreamRedisLatency measures issue 12's latency "from produce to the Redis value"
// through the whole topology: `shopease run`'s processor group runs (Pebble tables, the realtime
// processor's Redis sink on the real redis-server with its default flush), and raw activity
// events of 2,000 users, stamped with the wall clock, are produced into the raw activity topic at
// a fixed rate, as a site would send them. Every 50 ms the producer notes (time, minute, events
// produced for that minute so far); a checkpoint's latency is from that note to the first moment
// the minute's `events` total in Redis reaches its count, polled every 10 ms — the producer's
// linger, the activity gateway, the clean topic, realtime's user stage, its loop topic, its
// minute stage and the sink's flush. Metrics: p50-ms, p99-ms, max-ms over the checkpoints of all
// runs after redisWarmUp, and the sink's Redis commands per event during the load (the steady
// state of live traffic).
func BenchmarkStreamRedisLatency(b *testing.B) {
	brokers := realBrokers(b)
	redisAddr := os.Getenv(testenv.EnvRedis)
	if redisAddr == "" {
		b.Fatalf("no real redis-server: %s is not set; run `make bench`", testenv.EnvRedis)
	}
	rate := envFloat(b, envRedisLatencyRate, 2000)
	loadFor := envDuration(b, envRedisLatencyFor, 30*time.Second)
	if loadFor <= redisWarmUp {
		b.Fatalf("%s=%v: want more than the %v warm-up", envRedisLatencyFor, loadFor, redisWarmUp)
	}
	flush := envDuration(b, envRedisFlush, redissink.DefaultFlushInterval)
	var all []time.Duration
	var cmds []float64
	for i := 0; i < b.N; i++ {
		lat, perEvent := redisLatencyOnce(b, brokers, redisAddr, rate, loadFor, flush)
		b.Logf("run %d: %.0f raw activity events/s for %v, sink flush %v: %d checkpoints, p50 %v, p99 %v, max %v; %.5f Redis commands per event; load average %s",
			i+1, rate, loadFor, flush, len(lat), pctl(lat, 0.50), pctl(lat, 0.99), pctl(lat, 1), perEvent, loadAverage())
		all, cmds = append(all, lat...), append(cmds, perEvent)
	}
	b.ReportMetric(float64(pctl(all, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pctl(all, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pctl(all, 1).Microseconds())/1000, "max-ms")
	b.ReportMetric(mean(cmds), "redis-cmds/event")
	b.ReportMetric(rate, "offered-events/s")
	b.ReportMetric(loadAverage1(), "loadavg")
}

// pctl is the q-quantile of ds (nearest rank); q = 1 is the maximum.
func pctl(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return quantile(s, q)
}

// checkpoint: by at, count activity events of the minute starting at minute (Unix s) were produced.
type checkpoint struct {
	at     time.Time
	minute int64
	count  int64
}

func redisLatencyOnce(b *testing.B, brokers []string, redisAddr string, rate float64, loadFor, flush time.Duration) ([]time.Duration, float64) {
	b.Helper()
	b.StopTimer()
	cfg := streamConfig(b, brokers, nil)
	cfg.RedisAddr, cfg.RedisFlushInterval = redisAddr, flush
	cfg.RedisKeyPrefix = testenv.KeyPrefix(b, testenv.RealRedis(b))
	cc := &testenv.CommandCounter{}
	cfg.RedisHooks = []redis.Hook{cc}
	stop := startGroup(b, cfg, processors.Run)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poll := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer poll.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()

	var (
		mu      sync.Mutex
		pending []checkpoint
		lat     []time.Duration
	)
	start := time.Now()
	warmUp := start.Add(redisWarmUp)
	stopPoll, pollDone := make(chan struct{}), make(chan struct{})
	go func() { // the Redis side: resolve checkpoints as their minute's total reaches them
		defer close(pollDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		seen := map[int64]int64{}
		for {
			select {
			case <-stopPoll:
				return
			case <-tick.C:
			}
			mu.Lock()
			minutes := map[int64]bool{}
			for _, c := range pending {
				minutes[c.minute] = true
			}
			mu.Unlock()
			for m := range minutes {
				if v, err := poll.HGet(ctx, cfg.RedisKeyPrefix+"minute:"+strconv.FormatInt(m, 10), "events").Int64(); err == nil {
					seen[m] = v
				}
			}
			now := time.Now()
			mu.Lock()
			rest := pending[:0]
			for _, c := range pending {
				if seen[c.minute] < c.count {
					rest = append(rest, c)
				} else if c.at.After(warmUp) {
					lat = append(lat, now.Sub(c.at))
				}
			}
			pending = rest
			mu.Unlock()
		}
	}()

	// The producer side: rate raw activity events/s of 2,000 users in 10 ms steps, keyed by user
	// id as replay keys them.
	raw := string(cfg.Namespace.Stream(topology.Activity))
	types := []event.ActivityType{event.PageView, event.ProductView, event.ProductView, event.AddToCart}
	produced := map[int64]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	var cmds0 int64
	counted, sent := 0, 0
	lastNote := time.Time{}
	b.StartTimer()
	for now := start; now.Sub(start) < loadFor; now = time.Now() {
		if cmds0 == 0 && now.After(warmUp) {
			cmds0, counted = cc.N(), sent
		}
		for due := int(rate * now.Sub(start).Seconds()); sent < due; sent++ {
			user := fmt.Sprintf("bench-latency-user-%04d", rng.IntN(2000))
			at := time.Now().UTC()
			v, err := codecs.Activity{}.Encode(&event.Activity{EventID: "e" + strconv.Itoa(sent), UserID: user,
				SessionID: "s-" + user, Type: types[sent%len(types)], ProductID: "P0001", Time: at})
			if err != nil {
				b.Fatal(err)
			}
			cl.Produce(ctx, &kgo.Record{Topic: raw, Key: []byte(user), Value: v}, func(_ *kgo.Record, err error) {
				if err != nil && ctx.Err() == nil {
					b.Errorf("produce: %v", err)
				}
			})
			produced[at.Truncate(time.Minute).Unix()]++
		}
		if m := now.UTC().Truncate(time.Minute).Unix(); now.Sub(lastNote) >= 50*time.Millisecond && produced[m] > 0 {
			lastNote = now
			mu.Lock()
			pending = append(pending, checkpoint{at: now, minute: m, count: produced[m]})
			mu.Unlock()
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	cmdsPerEvent := float64(cc.N()-cmds0) / float64(max(sent-counted, 1))
	for deadline := time.Now().Add(probeDrain); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(pending)
		mu.Unlock()
		if n == 0 {
			break
		}
	}
	close(stopPoll)
	<-pollDone
	if len(pending) > 0 {
		b.Fatalf("%d checkpoints never reached Redis within %v after the load (first: minute %d, %d events)",
			len(pending), probeDrain, pending[0].minute, pending[0].count)
	}
	if len(lat) == 0 {
		b.Fatal("no checkpoint after the warm-up")
	}
	return lat, cmdsPerEvent
}
