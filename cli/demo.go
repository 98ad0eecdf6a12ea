package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/updatecount"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/testenv"
)

func demoCmd() *command {
	var (
		dataDir  string
		interval time.Duration
	)
	return &command{
		name:    "demo",
		summary: "run the pipeline on an in-process broker and Redis (nothing to install)",
		help: `Starts an in-process Kafka-protocol broker (kfake) and Redis (miniredis) on loopback ports,
creates the topics, runs the processor group on them and feeds it inventory updates, printing the
state table as it changes. Ctrl-C stops everything cleanly.

What runs today: the updatecount processor, which counts inventory updates per SKU in a Pebble-backed
goka table; the full pipeline (replay, gateways, journeys, metrics, dashboard) joins as it lands.

Example:
  shopease demo
  shopease demo --interval 200ms --data-dir /tmp/shopease-demo`,
		flags: func(fs *flag.FlagSet, _ *env) {
			fs.StringVar(&dataDir, "data-dir", "", "folder of local state (default: a new temporary folder, removed at exit)")
			fs.DurationVar(&interval, "interval", time.Second, "time between simulated inventory updates")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("demo takes no arguments")
			}
			if interval <= 0 {
				return usagef("--interval must be positive")
			}
			return runDemo(ctx, e, dataDir, interval)
		},
	}
}

func runDemo(ctx context.Context, e *env, dataDir string, interval time.Duration) error {
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "shopease-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	emb, err := testenv.StartEmbedded(ctx, testenv.WithLogger(e.log))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer emb.Close()
	fmt.Fprintf(e.stdout, "embedded Kafka-protocol broker on %s, Redis on %s, state in %s\n",
		strings.Join(emb.Brokers(), ","), emb.RedisAddr(), dataDir)

	fmt.Fprintln(e.stdout, "pseudonyms use the PUBLIC demo key (pseudonym.DemoKey): fine for a demo, never for real data")
	cfg := cluster.Config{Brokers: emb.Brokers(), DataDir: dataDir, Logger: e.log, Pseudonyms: pseudonym.Demo()}
	cfg.Storage = pebbleStorage(e, &cfg)
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := cfg.EnsureTopics(topology.DefaultPartitions); err != nil {
		return fmt.Errorf("demo: create topics: %w", err)
	}
	fmt.Fprintln(e.stdout, "feeding inventory updates; the table below counts them per SKU. Ctrl-C to stop.")

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return processors.Run(gctx, cfg) })
	g.Go(func() error { return feedInventory(gctx, cfg, interval) })
	g.Go(func() error { return printCounts(gctx, e, cfg, 5*interval) })
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(e.stdout, "stopped cleanly")
	return nil
}

func feedInventory(ctx context.Context, cfg cluster.Config, interval time.Duration) error {
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Inventory), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		return fmt.Errorf("demo: emitter: %w", err)
	}
	defer em.Finish()
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; ; i++ {
		sku := fmt.Sprintf("SKU-%03d", (i*37)%11)
		if _, err := em.Emit(sku, []byte(fmt.Sprintf(`{"event_id":"demo-%d","type":"stock_report","sku":%q,"quantity":"%d","time":%q}`,
			i, sku, 10+i%7, time.Now().UTC().Format(time.RFC3339)))); err != nil {
			return fmt.Errorf("demo: emit: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func printCounts(ctx context.Context, e *env, cfg cluster.Config, every time.Duration) error {
	viewCfg := cfg
	viewCfg.Storage = nil
	v, err := updatecount.NewView(viewCfg)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
		}
		if !v.Recovered() {
			continue
		}
		it, err := v.Iterator()
		if err != nil {
			return err
		}
		var rows []string
		for it.Next() {
			val, err := it.Value()
			if err != nil {
				it.Release()
				return err
			}
			rows = append(rows, fmt.Sprintf("%s=%d", it.Key(), val.(*updatecount.Count).N))
		}
		it.Release()
		sort.Strings(rows)
		fmt.Fprintf(e.stdout, "%s  %s\n", time.Now().Format("15:04:05"), strings.Join(rows, " "))
	}
}
