package updatecount_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/updatecount"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestStateSurvivesRestartAndLoss runs the processor against the embedded broker and real Kafka:
// exact counts, then a restart that keeps the local state, then a restart after the local state
// dir is deleted (the table is recovered from its changelog topic).
func TestStateSurvivesRestartAndLoss(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		dataDir := t.TempDir()
		cfg := cluster.Config{
			Brokers:   k.Brokers(),
			Namespace: testenv.Namespace(t),
			DataDir:   dataDir,
			Storage:   pebble,
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		emit := func(round, n int) {
			t.Helper()
			em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Inventory), new(codec.Bytes), cfg.EmitterOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				key := fmt.Sprintf("sku-%02d", (i*7+round)%13)
				p, err := em.Emit(key, []byte(fmt.Sprintf("r%d-%d", round, i)))
				if err != nil {
					t.Fatal(err)
				}
				p.Then(func(err error) { errs <- err })
				want[key]++
			}
			if err := em.Finish(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		}

		emit(1, 200)
		in := cfg.Namespace.Stream(topology.Inventory)
		group := cfg.Namespace.Group(updatecount.Group)
		if lag, err := cfg.Lag(group, in); err != nil || lag != 200 {
			t.Fatalf("lag before the first run = %d, %v; want 200", lag, err)
		}
		stop := start(t, cfg)
		waitCounts(t, cfg, want)
		waitLag(t, cfg, group, in)
		stop()

		emit(2, 150)
		stop = start(t, cfg)
		waitCounts(t, cfg, want)
		stop()

		if err := os.RemoveAll(filepath.Join(dataDir, "processor")); err != nil {
			t.Fatal(err)
		}
		emit(3, 50)
		stop = start(t, cfg)
		waitCounts(t, cfg, want)
		stop()
	})
}

// pebble is the production storage; the test proves state survives in it across restarts.
func pebble(dir string) storage.Builder { return tables.NewBuilder(dir) }

// start runs the processor in the background and returns a function that stops it cleanly.
func start(t *testing.T, cfg cluster.Config) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p, err := updatecount.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- p.Run(ctx) }()
	readyCtx, readyCancel := context.WithTimeout(ctx, 90*time.Second)
	defer readyCancel()
	if err := p.WaitForReadyContext(readyCtx); err != nil {
		cancel()
		t.Fatalf("processor not ready: %v (run: %v)", err, <-done)
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("processor: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("processor did not stop within 60 s")
		}
	}
}

// waitLag waits until the group has committed everything (goka commits about once a second).
func waitLag(t *testing.T, cfg cluster.Config, g goka.Group, in goka.Stream) {
	t.Helper()
	var lag int64
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if lag, err = cfg.Lag(g, in); err == nil && lag == 0 {
			return
		}
	}
	t.Fatalf("lag never reached 0: %d, %v", lag, err)
}

// waitCounts reads the table through a fresh view until every key has its expected count.
func waitCounts(t *testing.T, cfg cluster.Config, want map[string]int64) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = diffCounts(t, cfg, want)
		if last == "" {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("table never reached the expected counts: %s", last)
}

func diffCounts(t *testing.T, cfg cluster.Config, want map[string]int64) string {
	viewCfg := cfg
	viewCfg.Storage = nil // views keep their copy in memory
	v, err := updatecount.NewView(viewCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !v.Recovered() {
		select {
		case err := <-done:
			t.Fatalf("view: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	for key, n := range want {
		val, err := v.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		if val == nil {
			return key + ": missing"
		}
		if got := val.(*updatecount.Count).N; got != n {
			return fmt.Sprintf("%s: %d, want %d", key, got, n)
		}
	}
	return ""
}
