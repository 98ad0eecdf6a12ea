package bench

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// snapshotTail is the changelog written after the snapshot: 1% of the table.
const snapshotTail = restoreRecords / 100

// BenchmarkSnapshotRestore compares the two ways a processor gets back a 1M-key table it lost:
// goka's changelog-only recovery (every record from offset 0) and a restore from the newest lake
// snapshot plus the changelog tail written after it (1% of the keys), done by
// compaction.RestoringBuilder with WithTail when goka opens each partition, as `shopease run`
// does. Both end with the same Pebble store; s/restore is the wall time to a recovered view.
//
// updates=1 is a changelog with one record per key, goka's best case. updates=10 writes every key
// ten times, as a counting table's changelog looks before Kafka's cleaner compacts it (the cleaner
// never touches the active segment, 1 GiB by default): changelog-only recovery reads every record,
// the snapshot still holds one row per key.
//
//	make bench   (or: go test -run '^$' -bench SnapshotRestore -benchtime 1x -count 3 ./bench/)
func BenchmarkSnapshotRestore(b *testing.B) {
	brokers := realBrokers(b)
	for _, updates := range []int{1, 10} {
		b.Run(fmt.Sprintf("updates=%d", updates), func(b *testing.B) {
			benchSnapshotRestore(b, brokers, updates)
		})
	}
}

func benchSnapshotRestore(b *testing.B, brokers []string, updates int) {
	table := fmt.Sprintf("bench-snapshot-%d-table", time.Now().UnixNano())
	b.Cleanup(func() { deleteTopics(b, brokers, table) })
	if err := produceRounds(brokers, table, restoreRecords, updates); err != nil {
		b.Fatal(err)
	}
	lakeDir := b.TempDir()
	if _, err := compaction.Compact(context.Background(), compaction.Config{Brokers: brokers, LakeDir: lakeDir, Tables: []string{table}}); err != nil {
		b.Fatal(err)
	}
	if err := produceTail(brokers, table, snapshotTail); err != nil {
		b.Fatal(err)
	}
	records := float64(restoreRecords*updates + snapshotTail)
	pebble := func(dir string) storage.Builder { return tables.NewBuilder(dir) }
	b.Run("changelog-only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := tempDir(b)
			cfg := cluster.Config{Brokers: brokers, DataDir: dir, Storage: pebble}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			elapsed := restoreView(b, cfg, goka.Table(table))
			os.RemoveAll(dir)
			b.ReportMetric(elapsed.Seconds(), "s/restore")
			b.ReportMetric(records/elapsed.Seconds(), "records/s")
		}
	})
	b.Run("snapshot+tail", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := tempDir(b)
			// The production path (shopease run): the view's storage restores each partition from
			// the snapshot and replays the tail when goka opens it.
			restoring := func(dir string) storage.Builder {
				return compaction.RestoringBuilder(lakeDir, dir, tables.NewBuilder(dir), compaction.WithTail(brokers))
			}
			cfg := cluster.Config{Brokers: brokers, DataDir: dir, Storage: restoring}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			elapsed := restoreView(b, cfg, goka.Table(table))
			if n := countKeys(b, viewDir(dir, table), table); n != restoreRecords {
				b.Fatalf("restored table has %d keys, want %d", n, restoreRecords)
			}
			os.RemoveAll(dir)
			b.ReportMetric(elapsed.Seconds(), "s/restore")
			b.ReportMetric(records/elapsed.Seconds(), "records/s")
		}
	})
}

// countKeys counts the keys of every partition of table under a view's data dir.
func countKeys(b *testing.B, dir, table string) int {
	n := 0
	for p := int32(0); ; p++ {
		path := tables.PartitionDir(dir, table, p)
		if _, err := os.Stat(path); err != nil {
			return n
		}
		st, err := tables.Open(path, tables.WithReadOnly())
		if err != nil {
			b.Fatal(err)
		}
		it, err := st.Iterator()
		if err != nil {
			b.Fatal(err)
		}
		for it.Next() {
			n++
		}
		it.Release()
		st.Close()
	}
}

// produceRounds creates a compacted 8-partition table topic and writes every one of keys keys
// rounds times (100-byte values), the keys of produceTable.
func produceRounds(brokers []string, topic string, keys, rounds int) error {
	if err := produceTable(brokers, topic, keys); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		first error
	)
	for r := 1; r < rounds; r++ {
		value := make([]byte, 100)
		value[0] = byte(r)
		for i := 0; i < keys; i++ {
			key := make([]byte, 16)
			binary.BigEndian.PutUint64(key, uint64(i))
			copy(key[8:], "restore!")
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			})
		}
	}
	if err := cl.Flush(context.Background()); err != nil {
		return err
	}
	return first
}

// viewDir is where cluster.Config.ViewOptions keeps a view's tables.
func viewDir(dataDir, table string) string { return dataDir + "/view/" + table }

func tempDir(b *testing.B) string {
	dir, err := os.MkdirTemp("", "bench-snapshot-")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// produceTail overwrites n existing keys (every 100th), as live traffic after a snapshot would.
func produceTail(brokers []string, topic string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	value := make([]byte, 100)
	value[0] = 1
	for i := 0; i < n; i++ {
		key := make([]byte, 16)
		binary.BigEndian.PutUint64(key, uint64(i*100))
		copy(key[8:], "restore!")
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}, nil)
	}
	return cl.Flush(context.Background())
}

// deleteTopics removes the benchmark's changelogs: a shared broker must not keep ~1 GB per run.
func deleteTopics(b *testing.B, brokers []string, topics ...string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		b.Logf("delete %v: %v", topics, err)
		return
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).DeleteTopics(context.Background(), topics...); err != nil {
		b.Logf("delete %v: %v", topics, err)
	}
}
