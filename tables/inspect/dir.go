package inspect

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/tables"
)

// PartitionInfo describes one table partition found in a data dir.
type PartitionInfo struct {
	Partition int32
	Path      string
	Pebble    bool  // false: the dir holds no Pebble DB (e.g. goka's LevelDB); it cannot be read
	SizeBytes int64 // all files in the partition dir
	Offset    int64 // stored changelog offset; -1 when none is stored or the DB was not opened
	Keys      int64 // -1 unless counted
}

// TableInfo describes one table (a goka table topic) found in a data dir.
type TableInfo struct {
	Name       string
	Partitions []PartitionInfo
}

// SizeBytes is the table's size on disk over all its local partitions.
func (t TableInfo) SizeBytes() int64 {
	var n int64
	for _, p := range t.Partitions {
		n += p.SizeBytes
	}
	return n
}

// DirOption configures OpenDir.
type DirOption func(*DirSource)

// WithHasher sets the hasher the processor group used (default goka.DefaultHasher()).
func WithHasher(h func() hash.Hash32) DirOption { return func(d *DirSource) { d.hasher = h } }

// WithPartitionCount tells Get how many partitions the table topics have. Get then reads only the
// partition goka's hasher assigns the key to; without it Get looks in every local partition.
func WithPartitionCount(n int32) DirOption { return func(d *DirSource) { d.partitions = n } }

// DirSource reads the tables of a stopped processor's data dir, as package tables laid it out
// (<dir>/<topic>.<partition>). DBs are opened read-only on first use; a DB still locked by a running
// processor cannot be opened.
type DirSource struct {
	dir        string
	hasher     func() hash.Hash32
	partitions int32

	mu   sync.Mutex
	open map[string]*tables.Storage // by partition path
}

var _ Source = (*DirSource)(nil)

// OpenDir returns a source over the data dir dir. It fails if dir is not a directory.
func OpenDir(dir string, opts ...DirOption) (*DirSource, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: data dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("inspect: data dir %s is not a directory", dir)
	}
	d := &DirSource{dir: dir, hasher: goka.DefaultHasher(), open: map[string]*tables.Storage{}}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Tables lists the tables of the data dir with their partitions, sizes and stored offsets, sorted
// by name and partition. With countKeys it also counts every partition's keys (a full scan).
func (d *DirSource) Tables(ctx context.Context, countKeys bool) ([]TableInfo, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: list %s: %w", d.dir, err)
	}
	byName := map[string]*TableInfo{}
	for _, e := range entries {
		name, part, ok := parsePartitionDir(e)
		if !ok {
			continue
		}
		p, err := d.describe(ctx, name, part, countKeys)
		if err != nil {
			return nil, err
		}
		t := byName[name]
		if t == nil {
			t = &TableInfo{Name: name}
			byName[name] = t
		}
		t.Partitions = append(t.Partitions, p)
	}
	out := make([]TableInfo, 0, len(byName))
	for _, t := range byName {
		slices.SortFunc(t.Partitions, func(a, b PartitionInfo) int { return int(a.Partition - b.Partition) })
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// parsePartitionDir splits "<topic>.<partition>"; topics may contain dots themselves.
func parsePartitionDir(e fs.DirEntry) (string, int32, bool) {
	if !e.IsDir() {
		return "", 0, false
	}
	i := strings.LastIndexByte(e.Name(), '.')
	if i <= 0 {
		return "", 0, false
	}
	p, err := strconv.ParseInt(e.Name()[i+1:], 10, 32)
	if err != nil || p < 0 {
		return "", 0, false
	}
	return e.Name()[:i], int32(p), true
}

func (d *DirSource) describe(ctx context.Context, table string, part int32, countKeys bool) (PartitionInfo, error) {
	path := tables.PartitionDir(d.dir, table, part)
	info := PartitionInfo{Partition: part, Path: path, Offset: -1, Keys: -1}
	size, pebble, err := dirSize(path)
	if err != nil {
		return info, err
	}
	info.SizeBytes, info.Pebble = size, pebble
	if !pebble {
		return info, nil
	}
	st, err := d.storage(table, part)
	if err != nil {
		return info, err
	}
	if info.Offset, err = st.GetOffset(-1); err != nil {
		return info, fmt.Errorf("inspect: offset of %s: %w", path, err)
	}
	if countKeys {
		n, err := countStorage(ctx, table, part, st, Query{})
		if err != nil {
			return info, err
		}
		info.Keys = n
	}
	return info, nil
}

// dirSize sums the sizes of the files under path and tells whether it holds a Pebble DB (Pebble
// writes OPTIONS-<n> files; LevelDB does not).
func dirSize(path string) (size int64, pebble bool, err error) {
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != path {
			return nil // removed while we walk (a running DB replaces its OPTIONS and MANIFEST files)
		}
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		if strings.HasPrefix(e.Name(), "OPTIONS-") {
			pebble = true
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		size += fi.Size()
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("inspect: size of %s: %w", path, err)
	}
	return size, pebble, nil
}

// storage opens (once) the read-only storage of a partition.
func (d *DirSource) storage(table string, part int32) (*tables.Storage, error) {
	path := tables.PartitionDir(d.dir, table, part)
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.open[path]; ok {
		return st, nil
	}
	if _, pebble, err := dirSize(path); err != nil {
		return nil, err
	} else if !pebble {
		return nil, fmt.Errorf("%w: %s", ErrNotPebble, path)
	}
	st, err := tables.Open(path, tables.WithReadOnly(), tables.WithCacheSize(8<<20))
	if err != nil {
		return nil, fmt.Errorf("inspect: open %s read-only (is its processor still running?): %w", path, err)
	}
	d.open[path] = st
	return st, nil
}

// localPartitions returns the partitions of table present in the data dir.
func (d *DirSource) localPartitions(table string) ([]int32, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: list %s: %w", d.dir, err)
	}
	var parts []int32
	for _, e := range entries {
		if name, p, ok := parsePartitionDir(e); ok && name == table {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: %q in %s", ErrNoTable, table, d.dir)
	}
	slices.Sort(parts)
	return parts, nil
}

// Get reads key from the partition goka's hasher assigns it (WithPartitionCount), or else from
// every local partition.
func (d *DirSource) Get(ctx context.Context, table, key string) (Record, bool, error) {
	parts, err := d.localPartitions(table)
	if err != nil {
		return Record{}, false, err
	}
	if d.partitions > 0 {
		p := PartitionFor(d.hasher, key, d.partitions)
		if !slices.Contains(parts, p) {
			return Record{}, false, fmt.Errorf("%w: %s key %q is in partition %d", ErrPartitionNotLocal, table, key, p)
		}
		parts = []int32{p}
	}
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return Record{}, false, err
		}
		st, err := d.storage(table, p)
		if err != nil {
			return Record{}, false, err
		}
		v, err := st.Get(key)
		if err != nil {
			return Record{}, false, fmt.Errorf("inspect: get %s key %q: %w", table, key, err)
		}
		if v != nil {
			return Record{Table: table, Partition: p, Key: key, Value: v}, true, nil
		}
	}
	return Record{}, false, nil
}

// Scan merges the selected keys of all local partitions in key order.
func (d *DirSource) Scan(ctx context.Context, table string, q Query, fn func(Record) error) error {
	if err := q.validate(); err != nil {
		return err
	}
	parts, err := d.localPartitions(table)
	if err != nil {
		return err
	}
	iters := make([]partitionIter, 0, len(parts))
	var seek []byte
	for _, p := range parts {
		st, err := d.storage(table, p)
		if err != nil {
			return err
		}
		open, s := iteratorFor(st, q)
		seek = s
		iters = append(iters, partitionIter{partition: p, open: open})
	}
	return mergeScan(ctx, table, iters, seek, q.Limit, fn)
}

// Count counts the selected keys over all local partitions.
func (d *DirSource) Count(ctx context.Context, table string, q Query) (int64, error) {
	if err := q.validate(); err != nil {
		return 0, err
	}
	parts, err := d.localPartitions(table)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range parts {
		st, err := d.storage(table, p)
		if err != nil {
			return 0, err
		}
		n, err := countStorage(ctx, table, p, st, q)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func countStorage(ctx context.Context, table string, part int32, st *tables.Storage, q Query) (int64, error) {
	open, seek := iteratorFor(st, q)
	var n int64
	q.Limit = 0
	err := mergeScan(ctx, table, []partitionIter{{partition: part, open: open}}, seek, 0, func(Record) error {
		n++
		return nil
	})
	return n, err
}

// Close closes every DB the source opened.
func (d *DirSource) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for path, st := range d.open {
		if err := st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("inspect: close %s: %w", path, err))
		}
		delete(d.open, path)
	}
	return errors.Join(errs...)
}
