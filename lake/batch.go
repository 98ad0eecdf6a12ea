package lake

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/processors/fence"
)

// writerTarget is where a Parquet writer writes: the batch's temp file.
type writerTarget = io.Writer

// rowWriter writes boxed rows of one dataset's row type to one Parquet file.
type rowWriter interface {
	write(row any) error
	setMeta(key, value string)
	close() error
}

type typedWriter[T any] struct {
	w   *parquet.GenericWriter[T]
	buf []T
}

// openWriter starts a zstd-compressed Parquet file whose row groups hold at most o.rowGroupRows rows,
// so a scan of a large file is split across threads by row group (DuckDB, Spark, pyarrow all do).
func openWriter[T any](w writerTarget, o options) rowWriter {
	return &typedWriter[T]{
		w: parquet.NewGenericWriter[T](w,
			parquet.Compression(&parquet.Zstd),
			parquet.MaxRowsPerRowGroup(int64(o.rowGroupRows)),
			parquet.CreatedBy("shopease", "lake", "1")),
		buf: make([]T, 0, 1024),
	}
}

func (t *typedWriter[T]) write(row any) error {
	t.buf = append(t.buf, row.(T))
	if len(t.buf) == cap(t.buf) {
		return t.flush()
	}
	return nil
}

func (t *typedWriter[T]) setMeta(key, value string) { t.w.SetKeyValueMetadata(key, value) }

func (t *typedWriter[T]) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return fmt.Errorf("lake: write rows: %w", err)
	}
	clear(t.buf)
	t.buf = t.buf[:0]
	return nil
}

func (t *typedWriter[T]) close() error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("lake: finish parquet file: %w", err)
	}
	return nil
}

// record is what the partition writer needs of a Kafka record.
type record struct {
	offset int64
	value  []byte
	origin string
	// control marks a control record (event.HeaderControl, e.g. replay's end-of-input marker
	// that the gateways forward): no row, but its offset belongs to the batch's range.
	control bool
}

// dateFile is one open temp file of the current batch.
type dateFile struct {
	f    *os.File
	w    rowWriter
	rows int
}

// partitionWriter turns the records of one partition of one clean topic into batch files.
type partitionWriter struct {
	ds        Dataset
	lakeDir   string
	partition int32
	o         options

	first, last int64 // offsets of the open batch; first < 0: none open
	rows        int
	opened      time.Time
	files       map[string]*dateFile
	// repair, when set, is the newest batch found on disk: its range is being read again and only
	// the dates it has no file for are written.
	repair *Batch
	next   int64 // offset after the last record seen
	// fence holds, per raw source, the highest origin offset seen (fenced datasets);
	// batchFence is its value when the open batch started, stored in the batch's files so that a
	// repair decides exactly as the lost run did.
	fence, batchFence fence.Vector

	stats DatasetStats
}

func newPartitionWriter(ds Dataset, lakeDir string, p int32, o options, repair *Batch) *partitionWriter {
	w := &partitionWriter{ds: ds, lakeDir: lakeDir, partition: p, o: o, first: -1, repair: repair}
	if repair != nil {
		w.next = repair.First
		w.fence = slices.Clone(repair.Fence)
	}
	return w
}

// add writes one record into the open batch, opening one if needed, and flushes the batch when it
// is full or, while repairing, when its range is complete.
func (w *partitionWriter) add(r record) error {
	if w.repair != nil && r.offset > w.repair.Last {
		return fmt.Errorf("%w: %s partition %d: offset %d beyond the batch %d-%d being repaired (record %d missing from Kafka)",
			ErrBadLake, w.ds.Name, w.partition, r.offset, w.repair.First, w.repair.Last, w.repair.Last)
	}
	if w.first < 0 {
		w.first, w.opened = r.offset, w.o.now()
		w.batchFence = slices.Clone(w.fence)
		if w.repair != nil && r.offset != w.repair.First {
			return fmt.Errorf("%w: %s partition %d: batch %d-%d starts at a record Kafka no longer has (first seen %d)",
				ErrBadLake, w.ds.Name, w.partition, w.repair.First, w.repair.Last, r.offset)
		}
	}
	if r.control {
		w.stats.Control++
	} else if err := w.addRow(r); err != nil {
		return err
	}
	w.last, w.next = r.offset, r.offset+1
	w.rows++
	if w.repair != nil && r.offset == w.repair.Last {
		err := w.flush()
		w.repair = nil
		return err
	}
	if w.rows >= w.o.maxBatchRows {
		return w.flush()
	}
	return nil
}

// addRow decodes r and writes its row, unless it repeats an earlier record or a repair already
// has its date.
func (w *partitionWriter) addRow(r record) error {
	row, t, err := w.ds.decode(r.value, r.origin, w.partition, r.offset)
	if err != nil {
		// A clean topic holds only what a gateway encoded, so a record that does not decode was
		// put there by someone else. Stopping would stop `shopease run` on it again at every
		// restart; the processors reading the topic send it to the dead-letter topic with its
		// source, so the writer counts it, says where it is, and goes on.
		w.stats.Undecodable++
		w.o.logger.Warn("lake: record does not decode; left out of the lake (the processors dead-letter it)",
			"dataset", w.ds.Name, "partition", w.partition, "offset", r.offset, "error", err)
		return nil
	}
	date := t.Format(time.DateOnly)
	dup, err := w.redelivered(r)
	switch {
	case err != nil:
		return err
	case dup:
		w.stats.Redelivered++
	case w.repair != nil && w.repair.Dates[date]:
		w.stats.Repaired++
	default:
		return w.writeRow(date, t, row)
	}
	return nil
}

// redelivered reports whether r repeats a record already seen (same raw origin), for fenced datasets.
func (w *partitionWriter) redelivered(r record) (bool, error) {
	if !w.ds.fenced || r.origin == "" {
		return false, nil
	}
	o, err := fence.ParseOrigin(r.origin)
	if err != nil {
		return false, fmt.Errorf("lake: %s partition %d offset %d: %w", w.ds.Name, w.partition, r.offset, err)
	}
	return !w.fence.Admit(o), nil
}

func (w *partitionWriter) writeRow(date string, t time.Time, row any) error {
	df := w.files[date]
	if df == nil {
		dir := DateDir(w.lakeDir, w.ds.Name, t)
		if err := mkdirAll(dir); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, tempName(w.partition, w.first)))
		if err != nil {
			return fmt.Errorf("lake: create temp file: %w", err)
		}
		df = &dateFile{f: f, w: w.ds.open(f, w.o)}
		if w.files == nil {
			w.files = map[string]*dateFile{}
		}
		w.files[date] = df
	}
	if err := df.w.write(row); err != nil {
		return fmt.Errorf("lake: %s %s: %w", w.ds.Name, df.f.Name(), err)
	}
	df.rows++
	return nil
}

// due reports whether the open batch has been open for the flush interval. A batch being repaired
// is never due: it must end exactly where the lost one ended.
func (w *partitionWriter) due(now time.Time) bool {
	return w.first >= 0 && w.repair == nil && now.Sub(w.opened) >= w.o.flushInterval
}

// flush finishes the batch's files and publishes them, in date order, under names that carry the
// batch's offset range.
func (w *partitionWriter) flush() error {
	if w.first < 0 {
		return nil
	}
	dates := make([]string, 0, len(w.files))
	for d := range w.files {
		dates = append(dates, d)
	}
	slices.Sort(dates)
	meta, err := json.Marshal(w.batchFence)
	if err != nil {
		return fmt.Errorf("lake: encode fence: %w", err)
	}
	for _, d := range dates {
		df := w.files[d]
		df.w.setMeta(fenceMetaKey, string(meta))
		if err := df.w.close(); err != nil {
			df.f.Close()
			return fmt.Errorf("%s: %w", df.f.Name(), err)
		}
		final := filepath.Join(filepath.Dir(df.f.Name()), fileName(w.partition, w.first, w.last))
		if err := publish(df.f, final); err != nil {
			return err
		}
		w.stats.Files++
		w.stats.Rows += int64(df.rows)
		w.o.logger.Debug("lake file", "dataset", w.ds.Name, "file", final, "rows", df.rows)
	}
	w.files, w.first, w.rows = nil, -1, 0
	return nil
}

// abandon drops the open batch's temp files (on shutdown mid-repair, or after an error); the next
// start reads the range again.
func (w *partitionWriter) abandon() {
	for _, df := range w.files {
		df.f.Close()
		os.Remove(df.f.Name())
	}
	w.files, w.first, w.rows = nil, -1, 0
}
