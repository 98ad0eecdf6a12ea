package realtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// envBenchEvents sizes BenchmarkRealtime (default 500,000 clean events: ~5 s at its rate).
const envBenchEvents = "BENCH_REALTIME_EVENTS"

// BenchmarkRealtime measures the realtime processor alone, Pebble tables, Redis sink on: clean
// events (activity, and one purchase line in 20) are written to the clean topics first, as the
// gateways would (pseudonymous keys, origin headers), then the processor starts and the time from
// the first event it reads (its outcome observer) to lag 0 on its inputs and loop gives events/s
// (lag counts committed offsets, and goka commits every second: size runs well beyond that). The events cover
// live traffic: 2,000 users, 1,000 events per minute of event time, in time order per raw
// partition. Metrics: events/s, and Redis commands per event (every command the sink sent,
// counted by a client hook: the steady-state figure of issue 7's "≤ 1 per 100").
//
// On the embedded broker and miniredis by default; with SHOPEASE_TEST_KAFKA and
// SHOPEASE_TEST_REDIS set (testenv/real.sh env), on the real servers (sub-benchmark "real").
func BenchmarkRealtime(b *testing.B) {
	n := 500_000
	if s := os.Getenv(envBenchEvents); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive number", envBenchEvents, s)
		}
		n = v
	}
	b.Run(testenv.NameEmbedded, func(b *testing.B) {
		benchRealtime(b, testenv.EmbeddedKafka(b), testenv.EmbeddedRedis(b), n)
	})
	if os.Getenv(testenv.EnvKafka) != "" || testenv.RequireReal() {
		b.Run(testenv.NameReal, func(b *testing.B) {
			benchRealtime(b, testenv.RealKafka(b), testenv.RealRedis(b), n)
		})
	}
}

func benchRealtime(b *testing.B, k testenv.Kafka, r testenv.Redis, n int) {
	var rates, cmds, cpus []float64
	for i := 0; i < b.N; i++ {
		rate, perEvent, cpu := runRealtimeOnce(b, k, r, n)
		b.Logf("run %d: %d events at %.0f events/s, %.5f Redis commands per event, %.1f µs CPU per event", i+1, n, rate, perEvent, cpu)
		rates, cmds, cpus = append(rates, rate), append(cmds, perEvent), append(cpus, cpu)
	}
	b.ReportMetric(median(rates), "events/s")
	b.ReportMetric(median(cmds), "redis-cmds/event")
	// CPU of this process (the processor; with the embedded servers, the broker and Redis too)
	// per event: on a machine shared with other work, a steadier figure than events/s.
	b.ReportMetric(median(cpus), "cpu-µs/event")
}

func runRealtimeOnce(b *testing.B, k testenv.Kafka, r testenv.Redis, n int) (rate, cmdsPerEvent, cpuPerEvent float64) {
	b.StopTimer()
	cfg := benchConfig(b, k, r)
	ns := cfg.Namespace
	seen := &firstSeen{}
	cfg.Observer = seen
	produceClean(b, cfg, n)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	cc := &testenv.CommandCounter{}
	rdb.AddHook(cc)
	inputs := []goka.Stream{ns.Stream(topology.CleanActivity), ns.Stream(topology.CleanTransactions),
		goka.Stream(string(ns.Group(realtime.Group)) + "-loop")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.StartTimer()
	cpuFirst := cpuTime()
	go func() { done <- realtime.RunWith(ctx, cfg, realtime.RunSettings{Redis: rdb}) }()
	var last time.Time
	var cpuLast time.Duration
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		// Lag counts committed offsets (goka commits every second): 0 once everything is done.
		if lag, err := cfg.Lag(ns.Group(realtime.Group), inputs...); err == nil && lag == 0 && !seen.at().IsZero() {
			last, cpuLast = time.Now(), cpuTime()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	first := seen.at() // the first event the processor read
	// Steady state: the sink's commands while processing, plus its final flush of what changed.
	time.Sleep(1500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		b.Fatalf("run: %v", err)
	}
	if last.IsZero() {
		b.Fatalf("lag not 0 after 10 min")
	}
	if !last.After(first) {
		b.Fatalf("lag 0 seen at %v, not after the first event read at %v", last, first)
	}
	return float64(n) / last.Sub(first).Seconds(), float64(cc.N()) / float64(n),
		float64((cpuLast - cpuFirst).Microseconds()) / float64(n)
}

// benchConfig is the realtime processor's configuration in a fresh namespace with 4-partition
// topics: Pebble tables, the demo pseudonymization key, a Redis key prefix of its own.
func benchConfig(b *testing.B, k testenv.Kafka, r testenv.Redis) cluster.Config {
	b.Helper()
	cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(b), DataDir: b.TempDir(),
		Pseudonyms: pseudonym.Demo(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Storage:        func(dir string) storage.Builder { return tables.NewBuilder(dir) },
		RedisKeyPrefix: testenv.KeyPrefix(b, r)}
	if _, err := cfg.EnsureTopics(4); err != nil {
		b.Fatal(err)
	}
	if _, err := realtime.EnsureOutputs(cfg); err != nil {
		b.Fatal(err)
	}
	return cfg
}

// firstSeen is an Observer that remembers when the processor reported its first event.
type firstSeen struct{ ns atomic.Int64 }

func (f *firstSeen) Observe(string, outcome.Outcome) { f.ns.CompareAndSwap(0, time.Now().UnixNano()) }

func (f *firstSeen) at() time.Time {
	if n := f.ns.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// produceClean writes n clean events (one purchase line in 20) to the clean topics, keyed by
// pseudonym, each stamped with a raw origin: activity from raw partition user%4, purchase lines
// round-robin over the raw transactions partitions, offsets increasing per raw partition.
func produceClean(b *testing.B, cfg cluster.Config, n int) {
	ns := cfg.Namespace
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	types := []event.ActivityType{event.PageView, event.ProductView, event.ProductView, event.AddToCart}
	rawAct, rawTx := string(ns.Stream(topology.Activity)), string(ns.Stream(topology.Transactions))
	actOff, txOff := make([]int64, 4), make([]int64, 4)
	ctx := context.Background()
	for i := range n {
		u := (i * 7919) % 2000
		user := fmt.Sprintf("v1.bench-user-%04d", u)
		at := start.Add(time.Duration(i) * 60 * time.Millisecond) // 1,000 events per minute
		var (
			topic string
			o     fence.Origin
			v     []byte
			err   error
		)
		if i%20 == 19 {
			rp := int32(i/20) % 4
			topic, o = string(ns.Stream(topology.CleanTransactions)), fence.Origin{Topic: rawTx, Partition: rp, Offset: txOff[rp]}
			txOff[rp]++
			v, err = codecs.TransactionLine{}.Encode(&event.TransactionLine{LineID: "l" + strconv.Itoa(i), OrderID: "o" + strconv.Itoa(i),
				Type: event.Purchase, UserID: user, ProductID: "P1", Quantity: 1, UnitPrice: 1000, Time: at})
		} else {
			rp := int32(u % 4)
			topic, o = string(ns.Stream(topology.CleanActivity)), fence.Origin{Topic: rawAct, Partition: rp, Offset: actOff[rp]}
			actOff[rp]++
			v, err = codecs.Activity{}.Encode(&event.Activity{EventID: "e" + strconv.Itoa(i), UserID: user,
				Type: types[i%len(types)], ProductID: "P1", Time: at})
		}
		if err != nil {
			b.Fatal(err)
		}
		rec := &kgo.Record{Topic: topic, Key: []byte(user), Value: v,
			Headers: []kgo.RecordHeader{{Key: fence.Header, Value: []byte(o.String())}}}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
