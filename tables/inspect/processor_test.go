package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/updatecount"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/inspect"
	"github.com/shopease/shopease/testenv"
)

// TestOfflineEqualsOnlineOnARealProcessorTable runs a real goka processor (updatecount, Pebble
// storage) against the embedded broker and real Kafka, stops it, and checks that the offline source
// over its data dir and the online View source give the same values for 1,000 random keys, the same
// full scan and the same count.
func TestOfflineEqualsOnlineOnARealProcessorTable(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		const partitions, keys, records = 4, 1500, 4000
		dataDir := t.TempDir()
		cfg := cluster.Config{
			Brokers:   k.Brokers(),
			Namespace: testenv.Namespace(t),
			DataDir:   dataDir,
			Storage:   func(dir string) storage.Builder { return tables.NewBuilder(dir) },
		}
		if _, err := cfg.EnsureTopics(partitions); err != nil {
			t.Fatal(err)
		}
		want := emitCounts(t, cfg, keys, records)

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		proc, err := updatecount.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stopProc := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- proc.Run(runCtx) }()

		table := string(cfg.Namespace.Table(updatecount.Group))
		online, err := inspect.NewViewSource(cfg.Brokers, inspect.WithGokaViewOptionsFunc(
			func(table string) []goka.ViewOption { return cfg.ViewOptions(goka.Table(table)) }))
		if err != nil {
			t.Fatal(err)
		}
		defer online.Close()
		waitForCounts(ctx, t, online, table, want)
		stopProc()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("processor: %v", err)
		}

		offline, err := inspect.OpenDir(filepath.Join(dataDir, "processor", string(cfg.Namespace.Group(updatecount.Group))),
			inspect.WithPartitionCount(partitions))
		if err != nil {
			t.Fatal(err)
		}
		defer offline.Close()
		listed, err := offline.Tables(ctx, true)
		if err != nil || len(listed) != 1 || listed[0].Name != table || len(listed[0].Partitions) != partitions {
			t.Fatalf("offline tables = %+v, %v", listed, err)
		}

		rng := rand.New(rand.NewPCG(3, 4))
		for i := range 1000 {
			key := fmt.Sprintf("sku-%05d", rng.IntN(keys+keys/10)) // ~9% never written
			orec, ofound, oerr := offline.Get(ctx, table, key)
			vrec, vfound, verr := online.Get(ctx, table, key)
			if oerr != nil || verr != nil || ofound != vfound || string(orec.Value) != string(vrec.Value) ||
				(ofound && orec.Partition != vrec.Partition) {
				t.Fatalf("key %d %s: offline %v %t %v, online %v %t %v", i, key, orec, ofound, oerr, vrec, vfound, verr)
			}
			if n := want[key]; (n > 0) != ofound || (ofound && decodeCount(t, orec) != n) {
				t.Fatalf("key %s: offline found %t, want count %d", key, ofound, n)
			}
		}
		scan := func(s inspect.Source) []string {
			var out []string
			if err := s.Scan(ctx, table, inspect.Query{}, func(r inspect.Record) error {
				out = append(out, fmt.Sprintf("%s/%d=%x", r.Key, r.Partition, r.Value))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if o, v := scan(offline), scan(online); !slices.Equal(o, v) || len(o) != len(want) {
			t.Fatalf("full scans differ: offline %d records, online %d, want %d", len(o), len(v), len(want))
		}
	})
}

// emitCounts writes records to the inventory stream over keys distinct keys and returns how many
// records each key got.
func emitCounts(t *testing.T, cfg cluster.Config, keys, records int) map[string]int64 {
	t.Helper()
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Inventory), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	errs := make(chan error, records)
	for i := range records {
		key := fmt.Sprintf("sku-%05d", (i*7919)%keys)
		p, err := em.Emit(key, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		p.Then(func(err error) { errs <- err })
		want[key]++
	}
	if err := em.Finish(); err != nil {
		t.Fatal(err)
	}
	for range records {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// waitForCounts polls the online source until it holds exactly the expected counts.
func waitForCounts(ctx context.Context, t *testing.T, src inspect.Source, table string, want map[string]int64) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		got := map[string]int64{}
		err := src.Scan(ctx, table, inspect.Query{}, func(r inspect.Record) error {
			got[r.Key] = decodeCount(t, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		last = fmt.Sprintf("%d of %d keys", len(got), len(want))
		if len(got) == len(want) && equalCounts(got, want) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("view never reached the expected counts: %s", last)
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func decodeCount(t *testing.T, r inspect.Record) int64 {
	t.Helper()
	v, err := inspect.Decode(updatecount.CountCodec{}, r)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*updatecount.Count).N
}
