package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/cluster"
)

// restoreRecords is the size of the changelog the restore benchmarks recover (issues 3 and 8: 1M).
// The changelog-only restore into memory, LevelDB and Pebble is tables.BenchmarkChangelogRestore.
const restoreRecords = 1_000_000

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

// restoreView recovers table into cfg's storage through a goka view — the path every processor
// takes when its local state is missing — and returns how long it took.
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
