package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// snapshotTail is the changelog written after the snapshot: 1% of the table.
const snapshotTail = restoreRecords / 100

// BenchmarkSnapshotRestore compares the two ways a processor gets back a 1M-key table it lost:
// goka's changelog-only recovery (every record from offset 0) and a restore from the newest lake
// snapshot followed by goka's recovery of the changelog tail written after it (1% of the table).
// Both end with the same Pebble store; s/restore is the wall time to a recovered view.
//
//	make bench   (or: go test -run '^$' -bench SnapshotRestore -benchtime 1x -count 3 ./bench/)
func BenchmarkSnapshotRestore(b *testing.B) {
	brokers := realBrokers(b)
	table := fmt.Sprintf("bench-snapshot-%d-table", time.Now().UnixNano())
	if err := produceTable(brokers, table, restoreRecords); err != nil {
		b.Fatal(err)
	}
	lakeDir := b.TempDir()
	snaps, err := compaction.Compact(context.Background(), compaction.Config{Brokers: brokers, LakeDir: lakeDir, Tables: []string{table}})
	if err != nil {
		b.Fatal(err)
	}
	if err := produceTail(brokers, table, snapshotTail); err != nil {
		b.Fatal(err)
	}
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
			b.ReportMetric(float64(restoreRecords+snapshotTail)/elapsed.Seconds(), "records/s")
		}
	})
	b.Run("snapshot+tail", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := tempDir(b)
			cfg := cluster.Config{Brokers: brokers, DataDir: dir, Storage: pebble}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := compaction.Restore(snaps[0], viewDir(dir, table), nil); err != nil {
				b.Fatal(err)
			}
			loaded := time.Since(start)
			elapsed := loaded + restoreView(b, cfg, goka.Table(table))
			os.RemoveAll(dir)
			b.ReportMetric(elapsed.Seconds(), "s/restore")
			b.ReportMetric(loaded.Seconds(), "s/snapshot-load")
			b.ReportMetric(float64(restoreRecords+snapshotTail)/elapsed.Seconds(), "records/s")
		}
	})
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
