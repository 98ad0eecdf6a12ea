package compaction

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/tables"
)

// Restoring 1M keys through Storage.Set costs a WAL write and a memtable insert per key, and
// memtable flushes on top; decoding the Parquet part file into an sstable for Pebble's ingestion
// cut that to ~0.3 s, three quarters of it Parquet decoding (pprof). So each snapshot also keeps
// its partitions as sstables in package tables' key encoding (_part-<p>.sst, written once by the
// compactor from the same sorted keys), and restore ingests those: Pebble hard-links the file, so
// a restore reads no rows at all. The Parquet file stays the portable copy and the fallback.

// writePartSST writes state in the order of keys (sorted) as an sstable for tables.Storage.Ingest
// and returns its size. The writer syncs the file.
func writePartSST(path string, keys []string, state map[string][]byte) (int64, error) {
	w, err := tables.NewSSTWriter(nil, path)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := w.Set([]byte(k), state[k]); err != nil {
			w.Abort()
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return fi.Size(), nil
}

// ingest loads one partition of s into a new Pebble store at dir with the manifest's offset and
// returns the rows loaded.
func ingest(s Snapshot, pm PartitionManifest, dir string, logger *slog.Logger) (int64, error) {
	st, err := tables.Open(dir, tables.WithSyncPolicy(tables.SyncNever))
	if err != nil {
		return 0, err
	}
	n, err := ingestInto(st, s, pm, logger)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// ingestInto loads one partition of s into the empty store st with the manifest's offset: from
// the snapshot's sstable when it has a usable one, else from the Parquet part file.
func ingestInto(st *tables.Storage, s Snapshot, pm PartitionManifest, logger *slog.Logger) (int64, error) {
	why := sstUnusable(s, pm)
	if why == "" {
		err := st.Ingest([]string{filepath.Join(s.Dir, pm.SST)}, pm.Offset)
		if err == nil || errors.Is(err, tables.ErrNotEmpty) || errors.Is(err, tables.ErrClosed) {
			return pm.Rows, err
		}
		// A refused sstable (another Pebble's format, a damaged file) leaves the store empty: the
		// ingestion is atomic. The Parquet file still has the rows.
		why = err.Error()
	}
	logger.Warn("compaction: restoring from the Parquet part file", "table", s.Manifest.Table,
		"partition", pm.Partition, "reason", why)
	sst := st.Path() + ".sst"
	defer os.Remove(sst)
	n, err := parquetToSST(filepath.Join(s.Dir, pm.File), sst)
	if err != nil {
		return n, err
	}
	if n != pm.Rows {
		return n, fmt.Errorf("%w: %s has %d rows, manifest says %d", ErrBadManifest, pm.File, n, pm.Rows)
	}
	var ssts []string
	if n > 0 {
		ssts = append(ssts, sst)
	}
	return n, st.Ingest(ssts, pm.Offset)
}

// sstUnusable says why the partition's sstable cannot be ingested, or "" when it can.
func sstUnusable(s Snapshot, pm PartitionManifest) string {
	switch {
	case pm.SST == "":
		return "snapshot has no sstable"
	case pm.SSTFormat != tables.SSTFormat:
		return fmt.Sprintf("sstable format %q, this build reads %q", pm.SSTFormat, tables.SSTFormat)
	}
	fi, err := os.Stat(filepath.Join(s.Dir, pm.SST))
	switch {
	case err != nil:
		return err.Error()
	case fi.Size() != pm.SSTBytes:
		return fmt.Sprintf("sstable has %d bytes, manifest says %d", fi.Size(), pm.SSTBytes)
	}
	return ""
}

// parquetToSST writes the part file's rows, in order, as an sstable for tables.Storage.Ingest.
func parquetToSST(part, path string) (int64, error) {
	in, err := os.Open(part)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", part, err)
	}
	defer in.Close()
	w, err := tables.NewSSTWriter(nil, path)
	if err != nil {
		return 0, err
	}
	r := parquet.NewGenericReader[Row](in)
	defer r.Close()
	buf := make([]Row, 4096)
	var key []byte
	for {
		k, rerr := r.Read(buf)
		for _, row := range buf[:k] {
			key = append(key[:0], row.Key...)
			if err := w.Set(key, row.Value); err != nil {
				w.Abort()
				if errors.Is(err, tables.ErrUnsorted) {
					return w.Rows(), fmt.Errorf("%w: %s is not sorted by key: %w", ErrBadManifest, part, err)
				}
				return w.Rows(), err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			w.Abort()
			return w.Rows(), fmt.Errorf("read %s: %w", part, rerr)
		}
	}
	return w.Rows(), w.Close()
}
