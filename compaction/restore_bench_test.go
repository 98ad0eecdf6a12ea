package compaction

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRestoreLoad loads a 1M-row, 8-partition snapshot (16-byte keys, 100-byte values, as
// bench.BenchmarkSnapshotRestore) into Pebble; no Kafka involved.
//
//	go test -run '^$' -bench RestoreLoad -benchtime 1x ./compaction/
func BenchmarkRestoreLoad(b *testing.B) {
	const rows, parts = 1_000_000, 8
	dir := b.TempDir()
	m := &Manifest{Version: 1, Table: "bench-table", Created: time.Now().UTC()}
	states := make([]map[string][]byte, parts)
	for p := range states {
		states[p] = map[string][]byte{}
	}
	value := make([]byte, 100)
	for i := 0; i < rows; i++ {
		key := make([]byte, 16)
		binary.BigEndian.PutUint64(key, uint64(i))
		copy(key[8:], "restore!")
		states[i%parts][string(key)] = value
	}
	for p := range parts {
		file := fmt.Sprintf("part-%d.parquet", p)
		n, size, err := writePart(filepath.Join(dir, file), states[p], 65_536, nil)
		if err != nil {
			b.Fatal(err)
		}
		m.Partitions = append(m.Partitions, PartitionManifest{Partition: int32(p), File: file, Offset: n - 1, EndOffset: n, Rows: n, Bytes: size})
	}
	s := Snapshot{Dir: dir, Manifest: m}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := os.MkdirTemp("", "restore-load-")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := Restore(s, out, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		os.RemoveAll(out)
	}
}
