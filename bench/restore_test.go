package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// restoreRecords is the size of the changelog the restore benchmark recovers (issue 3: 1M).
const restoreRecords = 1_000_000

var (
	restoreOnce  sync.Once
	restoreTable string
	restoreErr   error
)

// fillChangelog writes restoreRecords distinct keys with 100-byte values into a compacted
// 8-partition table topic, once per benchmark process.
func fillChangelog(b *testing.B, brokers []string) string {
	restoreOnce.Do(func() {
		restoreTable = fmt.Sprintf("bench-restore-%d-table", time.Now().UnixNano())
		restoreErr = produceTable(brokers, restoreTable, restoreRecords)
	})
	if restoreErr != nil {
		b.Fatal(restoreErr)
	}
	return restoreTable
}

func produceTable(brokers []string, topic string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx := context.Background()
	adm := kadm.NewClient(cl)
	cleanup := "compact"
	if _, err := adm.CreateTopic(ctx, 8, 1, map[string]*string{"cleanup.policy": &cleanup}, topic); err != nil {
		return fmt.Errorf("create %s: %w", topic, err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	value := make([]byte, 100)
	for i := 0; i < n; i++ {
		key := make([]byte, 16)
		binary.BigEndian.PutUint64(key, uint64(i))
		copy(key[8:], "restore!")
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return first
}

// BenchmarkTableRestore recovers the 1M-record changelog into an empty local store through a goka
// view — the path every processor takes when its local state is missing — with goka's memory
// store, goka's LevelDB store and the Pebble store of package tables.
func BenchmarkTableRestore(b *testing.B) {
	brokers := realBrokers(b)
	table := fillChangelog(b, brokers)
	stores := []struct {
		name  string
		build func(dir string) storage.Builder
	}{
		{"memory", func(string) storage.Builder { return storage.MemoryBuilder() }},
		{"leveldb", func(dir string) storage.Builder { return storage.DefaultBuilder(dir) }},
		{"pebble", func(dir string) storage.Builder { return tables.NewBuilder(dir) }},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir, err := os.MkdirTemp("", "bench-restore-")
				if err != nil {
					b.Fatal(err)
				}
				cfg := cluster.Config{Brokers: brokers, DataDir: dir, Storage: s.build}
				if err := cfg.Validate(); err != nil {
					b.Fatal(err)
				}
				elapsed := restoreView(b, cfg, goka.Table(table))
				os.RemoveAll(dir)
				b.ReportMetric(float64(restoreRecords)/elapsed.Seconds(), "records/s")
				b.ReportMetric(elapsed.Seconds(), "s/restore")
			}
		})
	}
}

func restoreView(b *testing.B, cfg cluster.Config, table goka.Table) time.Duration {
	v, err := goka.NewView(cfg.Brokers, table, new(codec.Bytes), cfg.ViewOptions(table)...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	for !v.Recovered() {
		select {
		case err := <-done:
			b.Fatalf("view stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	return elapsed
}
