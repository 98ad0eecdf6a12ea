package tables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Loading a table through Set costs a WAL write and a memtable insert per key, then flushes and
// compactions. A table snapshot is already sorted by key, so it can be written once as an sstable
// in this package's key encoding and handed to Pebble's ingestion, which links the file into the
// LSM as is. SSTWriter and Ingest are that path (package compaction's restore uses them).

// SSTFormat names the layout SSTWriter writes: this package's key encoding and the sstable format
// of the DBs it opens. A file written under another SSTFormat must not be ingested; whoever keeps
// sstables beside other data records it and compares it with the SSTFormat of the reader.
var SSTFormat = "tables-keys-v1/" + sstTableFormat.String()

// sstTableFormat is the newest sstable format a DB opened by this package accepts: openDB leaves
// FormatMajorVersion at its default, which Pebble resolves to FormatMinSupported.
var sstTableFormat = pebble.FormatMinSupported.MaxTableFormat()

var (
	// ErrUnsorted is returned by SSTWriter.Set for a key not greater than the one before it.
	ErrUnsorted = errors.New("tables: sstable keys not in increasing order")
	// ErrNotEmpty is returned by Ingest when the store already holds keys or an offset.
	ErrNotEmpty = errors.New("tables: ingest into a store that is not empty")
)

// SSTWriter writes table entries, in increasing key order, to one sstable that Ingest loads.
type SSTWriter struct {
	path string
	w    *sstable.Writer
	key  []byte // the stored form of the last key written
	rows int64
}

// NewSSTWriter creates the sstable file path on fs (nil: the OS file system).
func NewSSTWriter(fs vfs.FS, path string) (*SSTWriter, error) {
	if fs == nil {
		fs = vfs.Default
	}
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, fmt.Errorf("tables: create sstable %s: %w", path, err)
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), sstable.WriterOptions{TableFormat: sstTableFormat})
	return &SSTWriter{path: path, w: w}, nil
}

// Set adds key with value; key must be greater than the key of the previous Set. A nil value is
// stored as an empty one (goka deletes instead of storing nil, so a table never holds nil).
func (w *SSTWriter) Set(key, value []byte) error {
	n := len(w.key)
	if w.rows > 0 && bytes.Compare(key, w.key[1:n]) <= 0 {
		return fmt.Errorf("%w: %s row %d", ErrUnsorted, w.path, w.rows)
	}
	w.key = append(append(w.key[:0], keyData), key...)
	if err := w.w.Set(w.key, value); err != nil {
		return fmt.Errorf("tables: write sstable %s: %w", w.path, err)
	}
	w.rows++
	return nil
}

// Rows returns how many entries were set.
func (w *SSTWriter) Rows() int64 { return w.rows }

// Close finishes the file and syncs it.
func (w *SSTWriter) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("tables: finish sstable %s: %w", w.path, err)
	}
	return nil
}

// Abort closes the writer after a failure; the caller removes the file.
func (w *SSTWriter) Abort() { _ = w.w.Close() }

// Ingest loads sstables written by SSTWriter (under this version's SSTFormat, with disjoint key
// ranges) into an empty store and stores offset as its local offset, atomically: after a crash the
// store holds either nothing or all of it with the offset. The files stay where they are: they are
// hard-linked into the DB's directory when on the same file system (so they must never be
// modified; sstables never are) and copied otherwise. It must be called before goka opens the store.
func (s *Storage) Ingest(paths []string, offset int64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.batch != nil || s.offsetSet.Load() {
		return fmt.Errorf("tables: ingest into %s: %w (recovery has begun or an offset is set)", s.path, ErrNotEmpty)
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("tables: ingest into %s: %w", s.path, err)
	}
	empty := !it.First()
	_ = it.Close()
	if !empty {
		return fmt.Errorf("tables: ingest into %s: %w", s.path, ErrNotEmpty)
	}
	// Pebble removes the paths it ingested; it gets links of its own so the caller's files stay.
	// The names sit beside the DB's directory (on its file system), hidden.
	tmp := func(i int) string {
		return filepath.Join(filepath.Dir(s.path), fmt.Sprintf(".%s.ingest-%d.sst", filepath.Base(s.path), i))
	}
	links := make([]string, 0, len(paths)+1)
	defer func() {
		for _, l := range links {
			_ = s.o.fs.Remove(l) // gone once ingested; after a failure, a leftover only costs space
		}
	}()
	// The offset travels in its own one-key sstable in the same ingestion: Pebble applies all files
	// of one Ingest in one version edit, which is what makes data and offset atomic.
	links = append(links, tmp(0))
	if err := writeOffsetSST(s.o.fs, links[0], offset); err != nil {
		return err
	}
	for _, p := range paths {
		l := tmp(len(links))
		_ = s.o.fs.Remove(l) // an interrupted ingest's leftover
		if err := vfs.LinkOrCopy(s.o.fs, p, l); err != nil {
			return fmt.Errorf("tables: ingest %s into %s: %w", p, s.path, err)
		}
		links = append(links, l)
	}
	if err := s.db.Ingest(context.Background(), links); err != nil {
		return fmt.Errorf("tables: ingest into %s: %w", s.path, err)
	}
	s.offset.Store(offset)
	s.offsetSet.Store(true)
	return nil
}

func writeOffsetSST(fs vfs.FS, path string, offset int64) error {
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("tables: create %s: %w", path, err)
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), sstable.WriterOptions{TableFormat: sstTableFormat})
	if err := w.Set(offsetKey, strconv.AppendInt(nil, offset, 10)); err != nil {
		_ = w.Close()
		return fmt.Errorf("tables: write %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("tables: finish %s: %w", path, err)
	}
	return nil
}

// Empty reports whether the store holds no table key and no offset: the state of a partition goka
// never recovered anything into, which a restore may fill.
func (s *Storage) Empty() (bool, error) {
	if err := s.beforeRead(); err != nil {
		return false, err
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return false, fmt.Errorf("tables: read %s: %w", s.path, err)
	}
	defer it.Close()
	return !it.First(), nil
}
