package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// Knobs of BenchmarkStream (environment, so that scripts/bench.sh and a developer can size a run):
//
//	BENCH_STREAM_EVENTS      rows of the generated history (default 500,000)
//	BENCH_GATEWAY_EVENTS     rows of BenchmarkStreamActivityGateway's history (default 800,000:
//	                         its catch-up must last many of goka's 1 s commit intervals)
//	BENCH_STREAM_LOAD        offered load of the latency phase as a fraction of the same run's
//	                         sustained rate (default 0.5)
//	BENCH_STREAM_TIMEOUT     how long the catch-up phase may take (default 10m)
//	BENCH_STREAM_LOAD_FOR    how long the latency phase offers its load (default 30s)
//	BENCH_STREAM_RATE        offered load of the latency phase in events/s, instead of a fraction
//	                         (to compare builds at the same load)
//	BENCH_STREAM_CPUPROFILE  file: CPU profile of the catch-up phase (the processor group under load)
const (
	envStreamEvents  = "BENCH_STREAM_EVENTS"
	envGatewayEvents = "BENCH_GATEWAY_EVENTS"
	envStreamLoad    = "BENCH_STREAM_LOAD"
	envStreamTimeout = "BENCH_STREAM_TIMEOUT"
	envStreamLoadFor = "BENCH_STREAM_LOAD_FOR"
	envStreamRate    = "BENCH_STREAM_RATE"
	envStreamProfile = "BENCH_STREAM_CPUPROFILE"
)

// BenchmarkStream measures the whole processor group of `shopease run` (processors.Run, Pebble
// tables) on the real broker, in two phases per run:
//
//  1. catch-up: a generated history is replayed into the raw topics first; then the group starts
//     and the time from its first record to lag 0 on every group's inputs (loop topics included)
//     gives the sustained events/s — the ceiling of the pipeline, as no producer limits it;
//  2. latency: in a fresh namespace the group runs while the same history is replayed at a fixed
//     fraction of that ceiling (BENCH_STREAM_LOAD) for BENCH_STREAM_LOAD_FOR (or until the history
//     ends), and probe purchases are produced every 10 ms meanwhile;
//     a probe's latency is from its produce call to its record being read from the end of the
//     chain (see probe.go).
func BenchmarkStream(b *testing.B) {
	benchStream(b, wholeGroup, envInt(b, envStreamEvents, 500_000), true)
}

// BenchmarkStreamActivityGateway is the catch-up phase for the activity gateway alone (validate,
// pseudonymize, emit; no table): the per-message cost of goka + sarama + codecs + fence that every
// processor pays, and so the ceiling of any processor of the group.
func BenchmarkStreamActivityGateway(b *testing.B) {
	benchStream(b, activityGateway, envInt(b, envGatewayEvents, 800_000), false)
}

// pipeline is what a stream benchmark runs: processors, the groups whose lag says they are done,
// and how many of the replayed records they process.
type pipeline struct {
	run    func(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error
	inputs func(ns topology.Namespace) map[goka.Group][]goka.Stream
	events func(s *replay.Summary) int64
}

// wholeGroup is `shopease run`'s processor group; it processes every replayed record.
var wholeGroup = pipeline{run: processors.Run, inputs: processors.Inputs, events: func(s *replay.Summary) int64 { return s.Total.Sent }}

var activityGateway = pipeline{
	run: activity.Run,
	inputs: func(ns topology.Namespace) map[goka.Group][]goka.Stream {
		return map[goka.Group][]goka.Stream{ns.Group(topology.ActivityGroup): {ns.Stream(topology.Activity)}}
	},
	events: func(s *replay.Summary) int64 { return s.Datasets[generate.DatasetActivity].Sent },
}

func benchStream(b *testing.B, pl pipeline, events int, withLatency bool) {
	brokers := realBrokers(b)
	load := envFloat(b, envStreamLoad, 0.5)
	timeout := envDuration(b, envStreamTimeout, 10*time.Minute)
	loadFor := envDuration(b, envStreamLoadFor, 30*time.Second)

	gc := generate.DefaultConfig()
	gc.TargetEvents, gc.Dir = int64(events), b.TempDir()
	if _, err := generate.Run(context.Background(), gc, nil); err != nil {
		b.Fatalf("generate %d events: %v", events, err)
	}
	b.ResetTimer()
	var rates, cpuRates, p50s, p99s, offered []float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		load1 := loadAverage()
		rate := catchUp(b, brokers, gc.Dir, pl, timeout)
		rates, cpuRates = append(rates, rate.perSec), append(cpuRates, rate.perCPUSec)
		if !withLatency {
			b.Logf("run %d: sustained %.0f events/s (%.0f per CPU-s); load average %s", i+1, rate.perSec, rate.perCPUSec, load1)
			continue
		}
		offer := rate.perSec * load
		if fixed := envFloat(b, envStreamRate, 0); fixed > 0 {
			offer = fixed
		}
		lat := underLoad(b, brokers, gc.Dir, offer, loadFor)
		b.Logf("run %d: sustained %.0f events/s (%.0f per CPU-s); at %.0f events/s offered (%.0f%% of that): probe latency p50 %v, p99 %v, max %v (%d probes); load average %s",
			i+1, rate.perSec, rate.perCPUSec, lat.offered, lat.offered/rate.perSec*100, lat.p50, lat.p99, lat.max, lat.probes, load1)
		offered = append(offered, lat.offered)
		p50s, p99s = append(p50s, ms(lat.p50)), append(p99s, ms(lat.p99))
	}
	b.ReportMetric(mean(rates), "events/s")
	b.ReportMetric(mean(cpuRates), "events/cpu-s")
	if withLatency {
		b.ReportMetric(mean(offered), "offered-events/s")
		b.ReportMetric(mean(p50s), "p50-ms")
		b.ReportMetric(mean(p99s), "p99-ms")
	}
	b.ReportMetric(loadAverage1(), "loadavg")
}

// catchUp replays the history into a fresh namespace, then runs the pipeline until it has
// processed everything, and returns its events per second from its first record to lag 0.
func catchUp(b *testing.B, brokers []string, dir string, pl pipeline, timeout time.Duration) streamRate {
	b.Helper()
	first := &firstSeen{}
	cfg := streamConfig(b, brokers, first)
	s, err := replayInto(context.Background(), cfg, dir, b.TempDir()+"/manifest.json", 0)
	if err != nil {
		b.Fatal(err)
	}
	sent := pl.events(s)

	if path := os.Getenv(envStreamProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatalf("cpu profile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatalf("cpu profile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	b.StartTimer()
	stop := startGroup(b, cfg, pl.run)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cpu0 := cpuTime()
	var end time.Time
	var caughtUp map[goka.Group]time.Time
	end, caughtUp, err = waitLagZero(ctx, cfg, pl.inputs(cfg.Namespace))
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if err != nil {
		b.Fatalf("catch-up of %d events: %v", sent, err)
	}
	start := first.at()
	if start.IsZero() {
		b.Fatalf("the group processed nothing of %d events", sent)
	}
	secs := end.Sub(start).Seconds()
	var groups []string
	for g, at := range caughtUp {
		groups = append(groups, fmt.Sprintf("%s %.1f s", strings.TrimPrefix(string(g), string(cfg.Namespace)), at.Sub(start).Seconds()))
	}
	slices.Sort(groups)
	b.Logf("catch-up: %d events through every processor in %.2f s (%.1f CPU-s in this process); lag 0 at: %s",
		sent, secs, cpu.Seconds(), strings.Join(groups, ", "))
	return streamRate{perSec: float64(sent) / secs, perCPUSec: float64(sent) / cpu.Seconds()}
}

// streamRate is a catch-up's throughput by wall time and by CPU time of the benchmark process
// (the processors; the broker runs apart): on a shared machine the second is the steadier one.
type streamRate struct{ perSec, perCPUSec float64 }

// cpuTime is the user + system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// streamConfig is the group's configuration in a fresh namespace, as `shopease run` builds it:
// Pebble tables, the demo pseudonymization key, raw topics created with the default partitions.
func streamConfig(b *testing.B, brokers []string, obs outcome.Observer) cluster.Config {
	b.Helper()
	cfg := cluster.Config{
		Brokers: brokers, Namespace: testenv.Namespace(b), DataDir: b.TempDir(),
		Pseudonyms: pseudonym.Demo(), Observer: obs,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	if _, err := cfg.EnsureTopics(topology.DefaultPartitions); err != nil {
		b.Fatalf("create raw topics: %v", err)
	}
	return cfg
}

// replayInto replays every file of dir into cfg's raw topics at rate events/s (0: full speed)
// until done or ctx ends (nil summary); it returns an error only if the replay failed otherwise.
func replayInto(ctx context.Context, cfg cluster.Config, dir, manifest string, rate float64) (*replay.Summary, error) {
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace, rc.Rate = []string{dir}, cfg.Brokers, cfg.Namespace, rate
	rc.ManifestPath, rc.RejectsPath = manifest, ""
	s, err := replay.Run(ctx, rc, nil)
	if ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", dir, err)
	}
	return s, nil
}

// startGroup runs run (processors.Run, or one processor's Run) until the returned stop is called;
// stop fails the benchmark if it failed.
func startGroup(b *testing.B, cfg cluster.Config, run func(context.Context, cluster.Config, ...goka.ProcessorOption) error) (stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("processor group: %v", err)
		}
	}
}

// waitLagZero polls the committed offsets of every group of the topology until none lags, and
// returns when that was first seen, with the time each group first had no lag (which group
// bounds the pipeline). goka commits every second (sarama's auto-commit interval), so the end is
// late by up to a second plus the poll period: measure runs of tens of seconds.
func waitLagZero(ctx context.Context, cfg cluster.Config, inputs map[goka.Group][]goka.Stream) (time.Time, map[goka.Group]time.Time, error) {
	caughtUp := map[goka.Group]time.Time{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		total := int64(0)
		var lastErr error
		for g, ins := range inputs {
			lag, err := cfg.Lag(g, ins...)
			if err != nil {
				// Topics goka has just created may have no leader in the metadata yet: not
				// caught up, ask again.
				lastErr, total = fmt.Errorf("lag of %s: %w", g, err), total+1
				continue
			}
			// A downstream group has no lag before its inputs are written, too: it has caught up
			// when its lag was last seen at 0.
			if _, ok := caughtUp[g]; !ok && lag == 0 {
				caughtUp[g] = time.Now()
			} else if lag > 0 {
				delete(caughtUp, g)
			}
			total += lag
		}
		if total == 0 {
			return time.Now(), caughtUp, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, nil, fmt.Errorf("%d records still unprocessed (last error: %v): %w", total, lastErr, ctx.Err())
		case <-tick.C:
		}
	}
}

// firstSeen is an Observer that remembers when the first record reached a gateway.
type firstSeen struct{ ns atomic.Int64 }

func (f *firstSeen) Observe(string, outcome.Outcome) {
	if f.ns.Load() == 0 {
		f.ns.CompareAndSwap(0, time.Now().UnixNano())
	}
}

func (f *firstSeen) at() time.Time {
	if n := f.ns.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

func envFloat(b *testing.B, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive duration", name, s)
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mean(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

// loadAverage is /proc/loadavg's three figures: the machine is shared, so every run records how
// busy it was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return f[0] + " " + f[1] + " " + f[2]
}

func loadAverage1() float64 {
	f := strings.Fields(loadAverage())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
