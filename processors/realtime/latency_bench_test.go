package realtime_test

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
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/testenv"
)

// Knobs of BenchmarkRealtimeLatency.
const (
	envLatencyRate = "BENCH_REDIS_LATENCY_RATE" // events/s offered (default 2,000)
	envLatencyFor  = "BENCH_REDIS_LATENCY_FOR"  // how long they are offered (default 30s)
	envSinkFlush   = "BENCH_REDIS_FLUSH"        // the sink's flush interval (default: the sink's)
)

// BenchmarkRealtimeLatency measures issue 12's latency "from produce to the Redis value" on live
// traffic: the realtime processor runs (Pebble tables, the Redis sink with its default flush,
// redissink.DefaultFlushInterval),
// and clean activity events stamped with the wall clock are produced at a fixed rate, as the
// gateways would. Every 50 ms the producer notes (time, minute, events produced for that minute so
// far); that checkpoint's latency is from the note to the first moment the minute's `events`
// total in Redis reaches its count, polled every 10 ms — so it includes the producer's linger, the
// user stage, the loop topic, the minute stage and the sink's flush. The first 5 s are warm-up.
// Metrics: p50-ms, p99-ms, max-ms over the checkpoints of all runs, and the sink's Redis commands
// per event while the load lasted (the steady state of live traffic).
func BenchmarkRealtimeLatency(b *testing.B) {
	rate, loadFor := 2000.0, 30*time.Second
	if s := os.Getenv(envLatencyRate); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive number", envLatencyRate, s)
		}
		rate = v
	}
	if s := os.Getenv(envLatencyFor); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 5*time.Second {
			b.Fatalf("%s=%q: want a duration over 5s", envLatencyFor, s)
		}
		loadFor = d
	}
	var sinkOpts []redissink.Option
	if s := os.Getenv(envSinkFlush); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("%s=%q: want a positive duration", envSinkFlush, s)
		}
		sinkOpts = append(sinkOpts, redissink.WithFlushInterval(d))
	}
	run := func(b *testing.B, k testenv.Kafka, r testenv.Redis) {
		var all []time.Duration
		var cmds []float64
		for i := 0; i < b.N; i++ {
			lat, perEvent := realtimeLatencyOnce(b, k, r, rate, loadFor, sinkOpts)
			b.Logf("run %d: %.0f events/s for %v: %d checkpoints, p50 %v, p99 %v, max %v; %.5f Redis commands per event", i+1, rate, loadFor,
				len(lat), pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1), perEvent)
			all, cmds = append(all, lat...), append(cmds, perEvent)
		}
		b.ReportMetric(median(cmds), "redis-cmds/event")
		b.ReportMetric(float64(pct(all, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(pct(all, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(pct(all, 1).Microseconds())/1000, "max-ms")
		b.ReportMetric(rate, "offered-events/s")
	}
	b.Run(testenv.NameEmbedded, func(b *testing.B) { run(b, testenv.EmbeddedKafka(b), testenv.EmbeddedRedis(b)) })
	if os.Getenv(testenv.EnvKafka) != "" || testenv.RequireReal() {
		b.Run(testenv.NameReal, func(b *testing.B) { run(b, testenv.RealKafka(b), testenv.RealRedis(b)) })
	}
}

// pct is the q-quantile of ds (nearest rank); q = 1 is the maximum.
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// checkpoint: by at, count activity events of the minute starting at minute (Unix s) were produced.
type checkpoint struct {
	at     time.Time
	minute int64
	count  int64
}

func realtimeLatencyOnce(b *testing.B, k testenv.Kafka, r testenv.Redis, rate float64, loadFor time.Duration, sinkOpts []redissink.Option) ([]time.Duration, float64) {
	b.StopTimer()
	cfg := benchConfig(b, k, r)
	ns := cfg.Namespace
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	cc := &commandCounter{}
	rdb.AddHook(cc) // the sink's commands (the poller has a client of its own)
	poll := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer poll.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- realtime.RunWith(ctx, cfg, realtime.RunSettings{Redis: rdb, RedisOptions: sinkOpts}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("run: %v", err)
		}
	}()

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()

	var (
		mu      sync.Mutex
		pending []checkpoint
		lat     []time.Duration
	)
	warmUp := time.Now().Add(5 * time.Second)
	pollDone := make(chan struct{})
	stopPoll := make(chan struct{})
	go func() { // the Redis side: resolve checkpoints in order, per minute
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
				v, err := poll.HGet(ctx, cfg.RedisKeyPrefix+"minute:"+strconv.FormatInt(m, 10), "events").Int64()
				if err == nil {
					seen[m] = v
				}
			}
			now := time.Now()
			mu.Lock()
			rest := pending[:0]
			for _, c := range pending {
				if seen[c.minute] >= c.count {
					if c.at.After(warmUp) {
						lat = append(lat, now.Sub(c.at))
					}
					continue
				}
				rest = append(rest, c)
			}
			pending = rest
			mu.Unlock()
		}
	}()

	// The producer side: rate events/s of 2,000 users, in 10 ms steps, stamped with the wall clock.
	rawAct := string(ns.Stream(topology.Activity))
	clean := string(ns.Stream(topology.CleanActivity))
	types := []event.ActivityType{event.PageView, event.ProductView, event.ProductView, event.AddToCart}
	offsets := make([]int64, 4)
	produced := map[int64]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	b.StartTimer()
	start := time.Now()
	cmds0 := cc.n.Load()
	sent, lastNote := 0, time.Time{}
	for now := start; now.Sub(start) < loadFor; now = time.Now() {
		due := int(rate * now.Sub(start).Seconds())
		for ; sent < due; sent++ {
			u := rng.IntN(2000)
			user := fmt.Sprintf("v1.latency-user-%04d", u)
			at := time.Now().UTC()
			rp := int32(u % 4)
			o := fence.Origin{Topic: rawAct, Partition: rp, Offset: offsets[rp]}
			offsets[rp]++
			v, err := codecs.Activity{}.Encode(&event.Activity{EventID: "e" + strconv.Itoa(sent), UserID: user,
				Type: types[sent%len(types)], ProductID: "P1", Time: at})
			if err != nil {
				b.Fatal(err)
			}
			cl.Produce(ctx, &kgo.Record{Topic: clean, Key: []byte(user), Value: v,
				Headers: []kgo.RecordHeader{{Key: fence.Header, Value: []byte(o.String())}}}, func(_ *kgo.Record, err error) {
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
	cmdsPerEvent := float64(cc.n.Load()-cmds0) / float64(sent)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(pending)
		mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stopPoll)
	<-pollDone
	if len(pending) > 0 {
		b.Fatalf("%d checkpoints never reached Redis within 30 s after the load (first: minute %d, count %d)",
			len(pending), pending[0].minute, pending[0].count)
	}
	if len(lat) == 0 {
		b.Fatal("no checkpoint after the warm-up")
	}
	return lat, cmdsPerEvent
}
