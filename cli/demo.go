package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

func demoCmd() *command {
	var (
		dataDir, preset string
		brokers, redis  string
		namespace       string
		redisPrefix     string
		interval        time.Duration
		rate            float64
		pf              pipelineFlags
		hf              httpFlags
	)
	return &command{
		name:    "demo",
		summary: "run the whole pipeline on an in-process broker and Redis (nothing to install)",
		help: `Starts an in-process Kafka-protocol broker (kfake) and Redis (miniredis) on loopback ports,
creates the topics, runs the processor group, replays a small generated history into it and then
keeps feeding it live traffic from the simulator (with an activity spike every few minutes). Every
--interval it prints what each processor accepted, deduplicated and rejected (per reason).
Ctrl-C stops everything cleanly.

The dashboard (live charts, spike alerts, the three reports), the JSON API and Prometheus /metrics
are served on --http (default ` + demoHTTPAddr + `); the clean topics are archived to the Parquet lake
under <data-dir>/lake. Both addresses are printed at start. With --brokers and --redis the demo
runs on real servers instead of the embedded ones.

Pseudonyms use the public demo key: fine for a demo, never for real data.

Example:
  shopease demo
  shopease demo --preset small --rate 200 --data-dir /tmp/shopease-demo
  shopease demo --brokers 127.0.0.1:9092 --redis 127.0.0.1:6379 --namespace demo. --redis-prefix demo: --http 127.0.0.1:8081`,
		flags: func(fs *flag.FlagSet, _ *env) {
			fs.StringVar(&dataDir, "data-dir", "", "folder of local state and the generated history (default: a new temporary folder, removed at exit)")
			fs.StringVar(&preset, "preset", "tiny", "size of the replayed history: "+strings.Join(generate.PresetNames, ", "))
			fs.DurationVar(&interval, "interval", 5*time.Second, "time between status lines")
			fs.Float64Var(&rate, "rate", 50, "live events per second after the replay (0: no live traffic)")
			fs.StringVar(&brokers, "brokers", "", "Kafka bootstrap brokers, comma-separated (default: an embedded broker)")
			fs.StringVar(&redis, "redis", "", "Redis host:port for the real-time metrics (default: an embedded Redis)")
			fs.StringVar(&namespace, "namespace", "", "prefix of every topic and group name, to share a real cluster")
			fs.StringVar(&redisPrefix, "redis-prefix", "shopease:", "prefix of every Redis key, to share a real Redis")
			pf.register(fs)
			hf.register(fs, demoHTTPAddr)
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("demo takes no arguments")
			}
			if interval <= 0 || rate < 0 {
				return usagef("--interval must be positive and --rate ≥ 0")
			}
			hist, err := generate.Preset(preset)
			if err != nil {
				return usagef("%s", err)
			}
			return runDemo(ctx, e, demoSettings{dataDir: dataDir, brokers: brokers, redis: redis, hist: hist,
				namespace: topology.Namespace(namespace), redisPrefix: redisPrefix,
				interval: interval, rate: rate, pf: pf, hf: hf})
		},
	}
}

// demoSettings are the demo's flags.
type demoSettings struct {
	dataDir, brokers, redis string
	namespace               topology.Namespace
	redisPrefix             string
	hist                    generate.Config
	interval                time.Duration
	rate                    float64
	pf                      pipelineFlags
	hf                      httpFlags
}

func runDemo(ctx context.Context, e *env, ds demoSettings) error {
	dataDir := ds.dataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "shopease-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	brokers, redisAddr, closeServers, err := demoServers(ctx, e, ds)
	if err != nil {
		return err
	}
	defer closeServers() // after the processors stopped: they commit offsets on the way out
	fmt.Fprintf(e.stdout, "Kafka-protocol broker on %s, Redis on %s, state in %s\n", strings.Join(brokers, ","), redisAddr, dataDir)
	fmt.Fprintln(e.stdout, "pseudonyms use the PUBLIC demo key (pseudonym.DemoKey): fine for a demo, never for real data")

	cfg := cluster.Config{Brokers: brokers, DataDir: filepath.Join(dataDir, "state"), Logger: e.log,
		Pseudonyms: pseudonym.Demo(), RedisAddr: redisAddr, Namespace: ds.namespace, RedisKeyPrefix: ds.redisPrefix}
	pf, hf := ds.pf, ds.hf
	if pf.lakeDir == "" {
		pf.lakeDir = filepath.Join(dataDir, "lake")
	}
	pw := hf.observe(&cfg)
	counts := pw.counts // one Observer for the status lines and the dashboard
	if counts == nil {
		counts = &outcome.Counts{}
	}
	cfg.Observer = counts
	pf.restoring(e, &cfg, pw.tables)
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := pw.listen(hf.addr, cfg, pf.lake(cfg)); err != nil {
		return fmt.Errorf("demo: %w (another demo running? try --http 127.0.0.1:0)", err)
	}
	if pw.srv != nil {
		fmt.Fprintf(e.stdout, "dashboard: %s  (JSON API under /api/, Prometheus metrics at /metrics)\n", pw.srv.URL())
	}
	fmt.Fprintf(e.stdout, "lake: %s\n", pf.lake(cfg))
	if _, err := cfg.EnsureTopics(topology.DefaultPartitions); err != nil {
		return fmt.Errorf("demo: create topics: %w", err)
	}

	hist := ds.hist
	hist.Dir, hist.Overwrite = filepath.Join(dataDir, "history"), true
	if _, err := generate.Run(ctx, hist, e.log); err != nil {
		return fmt.Errorf("demo: generate history: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return pf.run(gctx, e, cfg, pw) })
	g.Go(func() error {
		if err := demoReplay(gctx, e, cfg, hist.Dir, dataDir); err != nil {
			return err
		}
		if ds.rate == 0 {
			return nil
		}
		return demoSimulate(gctx, e, cfg, ds.rate)
	})
	g.Go(func() error { return printOutcomes(gctx, e, counts, ds.interval) })
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(e.stdout, "stopped cleanly")
	return nil
}

// demoServers returns the brokers and Redis of the demo: the given ones, else embedded ones, which
// closeServers stops.
func demoServers(ctx context.Context, e *env, ds demoSettings) (brokers []string, redisAddr string, closeServers func(), err error) {
	for _, b := range strings.Split(ds.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) > 0 && ds.redis != "" {
		return brokers, ds.redis, func() {}, nil
	}
	emb, err := testenv.StartEmbedded(ctx, testenv.WithLogger(e.log))
	if err != nil {
		return nil, "", nil, fmt.Errorf("demo: %w", err)
	}
	if len(brokers) == 0 {
		brokers = emb.Brokers()
	}
	if redisAddr = ds.redis; redisAddr == "" {
		redisAddr = emb.RedisAddr()
	}
	return brokers, redisAddr, func() { _ = emb.Close() }, nil
}

func demoReplay(ctx context.Context, e *env, cfg cluster.Config, dir, dataDir string) error {
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace = []string{dir}, cfg.Brokers, cfg.Namespace
	rc.ManifestPath = filepath.Join(dataDir, "replay-manifest.json")
	rc.RejectsPath = filepath.Join(dataDir, "replay-rejects.ndjson")
	// The history ends before the simulator starts: the markers let journeys release its last orders.
	rc.EndOfInput = true
	sum, err := replay.Run(ctx, rc, e.log)
	if err != nil {
		return fmt.Errorf("demo: replay: %w", err)
	}
	fmt.Fprintf(e.stdout, "replayed the generated history in %s: %d rows read, %d sent, %d rejected by replay\n",
		dir, sum.Total.Read, sum.Total.Sent, sum.Total.RejectedTotal())
	return nil
}

func demoSimulate(ctx context.Context, e *env, cfg cluster.Config, rate float64) error {
	p, err := replay.NewProducer(cfg.Brokers, replay.WithClientID("shopease-demo-simulate"), replay.WithProducerLogger(e.log))
	if err != nil {
		return err
	}
	defer p.Close()
	sc := generate.DefaultSimConfig()
	sc.Rate = rate
	sim, err := generate.NewSimulator(sc, func(ctx context.Context, _ string, _ []byte, ev any, ts time.Time) error {
		return p.SendEvent(ctx, cfg.Namespace, ev, ts)
	}, generate.WithSimLogger(e.log))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "live traffic: %.0f events/s, a %.0f× spike every %s\n", rate, sc.SpikeFactor, sc.SpikeEvery)
	return sim.Run(ctx)
}

func printOutcomes(ctx context.Context, e *env, counts *outcome.Counts, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		var parts []string
		for _, p := range counts.Processors() {
			var acc, dup, rej int64
			var reasons []string
			for o, n := range counts.Of(p) {
				switch {
				case o == outcome.Accepted:
					acc += n
				case o == outcome.Duplicate:
					dup += n
				default:
					rej += n
					reasons = append(reasons, fmt.Sprintf("%s=%d", strings.TrimPrefix(string(o), "rejected/"), n))
				}
			}
			sort.Strings(reasons)
			s := fmt.Sprintf("%s: %d accepted", p, acc)
			if dup > 0 {
				s += fmt.Sprintf(", %d duplicates", dup)
			}
			if rej > 0 {
				s += fmt.Sprintf(", %d rejected (%s)", rej, strings.Join(reasons, " "))
			}
			parts = append(parts, s)
		}
		fmt.Fprintf(e.stdout, "%s  %s\n", time.Now().Format("15:04:05"), strings.Join(parts, " | "))
	}
}
