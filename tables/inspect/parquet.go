package inspect

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/compaction"
)

// SnapshotOption configures OpenSnapshots.
type SnapshotOption func(*SnapshotSource)

// WithSnapshot pins the snapshot to read: its directory name ("snapshot=20261126T140000.000Z") or
// just the time part. Without it every table is read at its newest complete snapshot.
func WithSnapshot(name string) SnapshotOption {
	return func(s *SnapshotSource) { s.pin = strings.TrimPrefix(name, "snapshot=") }
}

// SnapshotSource reads table snapshots in a Parquet lake (package compaction's layout:
// <lake>/tables/<table topic>/snapshot=<time>/part-<partition>.parquet). A table's snapshot is read
// into memory, sorted by key, on first use: snapshots are meant for looking at state that has no
// running processor, not for serving.
type SnapshotSource struct {
	lakeDir string
	pin     string

	mu     sync.Mutex
	loaded map[string]*snapshotTable
}

type snapshotTable struct {
	snap compaction.Snapshot
	recs []Record // sorted by key
}

var _ Source = (*SnapshotSource)(nil)

// OpenSnapshots returns a source over the snapshots in lakeDir.
func OpenSnapshots(lakeDir string, opts ...SnapshotOption) *SnapshotSource {
	s := &SnapshotSource{lakeDir: lakeDir, loaded: map[string]*snapshotTable{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Snapshot returns the snapshot the source reads for table (its directory and manifest).
func (s *SnapshotSource) Snapshot(table string) (compaction.Snapshot, error) {
	t, err := s.table(table)
	if err != nil {
		return compaction.Snapshot{}, err
	}
	return t.snap, nil
}

func (s *SnapshotSource) table(table string) (*snapshotTable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.loaded[table]; ok {
		return t, nil
	}
	snap, err := s.find(table)
	if err != nil {
		return nil, err
	}
	t := &snapshotTable{snap: snap}
	for _, pm := range snap.Manifest.Partitions {
		rows, err := parquet.ReadFile[compaction.Row](filepath.Join(snap.Dir, pm.File))
		if err != nil {
			return nil, fmt.Errorf("inspect: read %s: %w", filepath.Join(snap.Dir, pm.File), err)
		}
		for _, r := range rows {
			v := r.Value
			if v == nil {
				v = []byte{}
			}
			t.recs = append(t.recs, Record{Table: table, Partition: pm.Partition, Key: r.Key, Value: v})
		}
	}
	slices.SortFunc(t.recs, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	s.loaded[table] = t
	return t, nil
}

func (s *SnapshotSource) find(table string) (compaction.Snapshot, error) {
	snaps, err := compaction.Snapshots(s.lakeDir, table)
	if err != nil {
		return compaction.Snapshot{}, fmt.Errorf("inspect: %w", err)
	}
	if len(snaps) == 0 {
		return compaction.Snapshot{}, fmt.Errorf("%w: no snapshot of %q in %s", ErrNoTable, table, s.lakeDir)
	}
	if s.pin == "" {
		return snaps[len(snaps)-1], nil
	}
	for _, sn := range snaps {
		if filepath.Base(sn.Dir) == "snapshot="+s.pin {
			return sn, nil
		}
	}
	return compaction.Snapshot{}, fmt.Errorf("%w: %q has no snapshot %s in %s", ErrNoTable, table, s.pin, s.lakeDir)
}

// Get returns key's record from the table's snapshot.
func (s *SnapshotSource) Get(ctx context.Context, table, key string) (Record, bool, error) {
	t, err := s.table(table)
	if err != nil {
		return Record{}, false, err
	}
	i, found := slices.BinarySearchFunc(t.recs, key, func(r Record, k string) int { return strings.Compare(r.Key, k) })
	if !found {
		return Record{}, false, nil
	}
	r := t.recs[i]
	r.Value = slices.Clone(r.Value) // the caller owns it
	return r, true, nil
}

// selected returns the records q selects, in key order.
func (t *snapshotTable) selected(q Query) []Record {
	lo, hi := 0, len(t.recs)
	start, end := q.Start, q.End
	if q.Prefix != "" {
		start = q.Prefix
	}
	lo = sort.Search(len(t.recs), func(i int) bool { return t.recs[i].Key >= start })
	switch {
	case q.Prefix != "":
		hi = lo + sort.Search(len(t.recs)-lo, func(i int) bool { return !strings.HasPrefix(t.recs[lo+i].Key, q.Prefix) })
	case end != "":
		hi = max(lo, sort.Search(len(t.recs), func(i int) bool { return t.recs[i].Key >= end }))
	}
	return t.recs[lo:hi]
}

// Scan calls fn for the records q selects, in key order.
func (s *SnapshotSource) Scan(ctx context.Context, table string, q Query, fn func(Record) error) error {
	if err := q.validate(); err != nil {
		return err
	}
	t, err := s.table(table)
	if err != nil {
		return err
	}
	for i, r := range t.selected(q) {
		if q.Limit > 0 && i >= q.Limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Value = slices.Clone(r.Value) // the caller owns it
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many keys q selects.
func (s *SnapshotSource) Count(ctx context.Context, table string, q Query) (int64, error) {
	if err := q.validate(); err != nil {
		return 0, err
	}
	t, err := s.table(table)
	if err != nil {
		return 0, err
	}
	return int64(len(t.selected(q))), nil
}

// Close drops the loaded snapshots.
func (s *SnapshotSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.loaded)
	return nil
}
