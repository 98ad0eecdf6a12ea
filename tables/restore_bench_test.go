package tables_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// BenchmarkChangelogRestore measures goka's own recovery path — a View loading a table's changelog
// topic from the first offset to the high-water mark — into memory, LevelDB and Pebble storage, on
// the embedded broker and (when `make test`/`make bench` started one) on real Kafka. One op is one
// full restore; records/s is changelog records per second of restore.
//
//	go test -run '^$' -bench ChangelogRestore -benchtime 1x -count 3 ./tables/
//
// SHOPEASE_BENCH_RESTORE_RECORDS sets the changelog size (default 1,000,000 records over as many
// keys, 100-byte values, 8 partitions).
func BenchmarkChangelogRestore(b *testing.B) {
	records := 1_000_000
	if s := os.Getenv("SHOPEASE_BENCH_RESTORE_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("SHOPEASE_BENCH_RESTORE_RECORDS=%q: want a positive integer", s)
		}
		records = n
	}
	envs := []struct {
		name  string
		kafka func(testing.TB) testenv.Kafka
	}{
		{testenv.NameEmbedded, testenv.EmbeddedKafka},
		{testenv.NameReal, testenv.RealKafka},
	}
	for _, env := range envs {
		b.Run(env.name, func(b *testing.B) {
			k := env.kafka(b)
			cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(b)}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			table := string(cfg.Namespace.Table("restore-bench"))
			fillChangelog(b, cfg, table, 8, records)
			builders := []struct {
				name  string
				build func(dir string) storage.Builder
			}{
				{"memory", func(string) storage.Builder { return storage.MemoryBuilder() }},
				{"leveldb", storage.DefaultBuilder},
				{"pebble", func(dir string) storage.Builder { return tables.NewBuilder(dir) }},
			}
			for _, sb := range builders {
				b.Run(sb.name, func(b *testing.B) {
					if sb.name == "memory" && records > 100_000 {
						// goka's memory store re-sorts all its keys on every new key: O(n² log n).
						b.Skipf("goka's memory store cannot load %d distinct keys in reasonable time", records)
					}
					var total time.Duration
					for i := 0; i < b.N; i++ {
						total += restoreOnce(b, cfg, table, sb.build(b.TempDir()))
					}
					b.ReportMetric(float64(records)*float64(b.N)/total.Seconds(), "records/s")
				})
			}
		})
	}
}

// fillChangelog creates the compacted table topic and writes records distinct keys to it.
func fillChangelog(b *testing.B, cfg cluster.Config, table string, partitions, records int) {
	b.Helper()
	tm, err := cfg.TopicManager()
	if err != nil {
		b.Fatal(err)
	}
	if err := tm.EnsureTableExists(table, partitions); err != nil {
		b.Fatal(err)
	}
	if err := tm.Close(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { deleteTopic(b, cfg, table) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(table),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	value := make([]byte, 100)
	errs := make(chan error, 1)
	for i := range records {
		rec := &kgo.Record{Key: fmt.Appendf(nil, "key-%09d", i), Value: value}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatalf("produce changelog: %v", err)
	default:
	}
}

// restoreOnce loads the whole table into a fresh storage through a goka View and returns how long
// it took until the view was running (every partition recovered).
func restoreOnce(b *testing.B, cfg cluster.Config, table string, builder storage.Builder) time.Duration {
	b.Helper()
	v, err := goka.NewView(cfg.Brokers, goka.Table(table), new(codec.Bytes),
		cfg.ViewOptions(goka.Table(table), goka.WithViewStorageBuilder(builder))...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- v.Run(ctx) }()
	select {
	case <-v.WaitRunning():
	case err := <-done:
		cancel()
		b.Fatalf("view stopped before recovering: %v", err)
	case <-time.After(10 * time.Minute):
		cancel()
		b.Fatal("restore took more than 10 minutes")
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		b.Fatalf("view: %v", err)
	}
	return elapsed
}

// deleteTopic removes the benchmark's changelog so a shared broker does not keep ~100 MB per run.
func deleteTopic(b *testing.B, cfg cluster.Config, topic string) {
	admin, err := cfg.Admin()
	if err != nil {
		b.Logf("delete %s: %v", topic, err)
		return
	}
	defer admin.Close()
	if err := admin.DeleteTopic(topic); err != nil {
		b.Logf("delete %s: %v", topic, err)
	}
}
