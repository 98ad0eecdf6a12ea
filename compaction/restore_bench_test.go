package compaction

import (
	"encoding/binary"
	"os"
	"testing"
	"time"
)

// BenchmarkRestoreLoad loads a 1M-row, 8-partition snapshot (16-byte keys, 100-byte values, as
// bench.BenchmarkSnapshotRestore) into Pebble; no Kafka involved. sst is the normal path (the
// snapshot's sstables ingested); parquet is the fallback for snapshots without them (rows decoded
// from the part files into new sstables).
//
//	go test -run '^$' -bench RestoreLoad -benchtime 1x -count 3 ./compaction/
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
		n := int64(len(states[p]))
		pm, err := writePartition(dir, PartitionManifest{Partition: int32(p), Offset: n - 1, EndOffset: n}, states[p], 65_536, nil)
		if err != nil {
			b.Fatal(err)
		}
		m.Partitions = append(m.Partitions, pm)
	}
	parquetOnly := &Manifest{Version: 1, Table: m.Table, Created: m.Created}
	for _, pm := range m.Partitions {
		pm.SST, pm.SSTFormat, pm.SSTBytes = "", "", 0
		parquetOnly.Partitions = append(parquetOnly.Partitions, pm)
	}
	for _, c := range []struct {
		name string
		m    *Manifest
	}{{"sst", m}, {"parquet", parquetOnly}} {
		b.Run(c.name, func(b *testing.B) {
			s := Snapshot{Dir: dir, Manifest: c.m}
			for i := 0; i < b.N; i++ {
				out, err := os.MkdirTemp("", "restore-load-")
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				res, err := Restore(s, out, nil)
				if err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				var n int64
				for _, r := range res {
					n += r.Rows
				}
				if n != rows {
					b.Fatalf("restored %d rows, want %d", n, rows)
				}
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(elapsed.Seconds(), "s/load")
				os.RemoveAll(out)
			}
		})
	}
}
