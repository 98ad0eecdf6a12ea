package tables

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/lovoo/goka/storage"
)

// Key namespaces inside one DB. Table keys live in keyData, the offset in keyMeta, so that no table
// key can be mistaken for the offset and iterators bounded to keyData never see it.
const (
	keyMeta byte = 0x00
	keyData byte = 0x01
	keyEnd  byte = 0x02 // exclusive upper bound of keyData
)

var offsetKey = []byte{keyMeta, 'o', 'f', 'f', 's', 'e', 't'}

// Storage is goka's storage.Storage on one Pebble DB (one table partition). It is safe for any
// number of concurrent readers and for goka's writers (the callback goroutine and the producer-ack
// goroutine that calls SetOffset).
type Storage struct {
	db        *pebble.DB
	o         options
	path      string
	topic     string
	partition int32

	mu       sync.Mutex // serialises writes and batch commits
	scratch  []byte     // key buffer for writes, guarded by mu
	batch    *pebble.Batch
	lastSync time.Time
	// offsetDirty: an offset set after recovery is not written yet; it rides along with the next
	// table write, or is written by the next SetOffset that is due for a sync, or by Close.
	offsetDirty bool

	opened     atomic.Bool
	recovering atomic.Bool
	pending    atomic.Bool // batch holds uncommitted writes; readers commit it first
	closed     atomic.Bool
	offset     atomic.Int64
	offsetSet  atomic.Bool

	progress atomic.Pointer[progress] // set by Open; nil for a storage goka never opened
}

var _ storage.Storage = (*Storage)(nil)

// Open opens (creating unless WithReadOnly) the Pebble DB at path as a goka storage. Most callers use
// NewBuilder instead; Open is for tools and tests that handle one partition.
func Open(path string, opts ...Option) (*Storage, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	var cache *pebble.Cache
	if o.cacheSize > 0 {
		cache = pebble.NewCache(o.cacheSize)
		defer cache.Unref() // the DB holds its own reference
	}
	return openDB(path, "", -1, cache, o)
}

func openDB(path, topic string, partition int32, cache *pebble.Cache, o options) (*Storage, error) {
	popts := &pebble.Options{
		FS:               o.fs,
		Cache:            cache,
		MemTableSize:     o.memTableSize,
		Logger:           pebbleLogger{o.logger},
		ReadOnly:         o.readOnly,
		ErrorIfNotExists: o.readOnly,
		// FormatDefault: FormatNewest (columnar blocks) measured ~10% more CPU per record on the
		// write benchmarks here, and a read-only open must not ratchet the format anyway.
	}
	// Pebble creates the directory itself and syncs the parents it had to create; creating it here
	// first would hide them from Pebble and leave the new directory entries unsynced.
	db, err := pebble.Open(path, popts)
	if err != nil && !o.readOnly && damaged(err) {
		// The local state is a cache of the changelog: rebuilding it beats a processor that
		// fails at every restart (issue 11 case 4: a MANIFEST cut so that it names an sstable a
		// later compaction had deleted).
		o.logger.Warn("tables: local state damaged; removing it, the partition is rebuilt from its changelog",
			"dir", path, "topic", topic, "partition", partition, "error", err)
		if rerr := o.fs.RemoveAll(path); rerr != nil {
			return nil, fmt.Errorf("tables: open pebble %s: %w (removing it failed: %v)", path, err, rerr)
		}
		db, err = pebble.Open(path, popts)
	}
	if err != nil {
		return nil, fmt.Errorf("tables: open pebble %s: %w", path, err)
	}
	s := &Storage{db: db, o: o, path: path, topic: topic, partition: partition}
	s.lastSync = o.now()
	o.registry.add(s)
	return s, nil
}

// damaged reports whether Pebble refused to open a DB because of what is on disk: corrupt data,
// or files its MANIFEST names that are gone.
func damaged(err error) bool {
	return pebble.IsCorruptionError(err) || errors.Is(err, os.ErrNotExist)
}

// Path returns the DB's directory.
func (s *Storage) Path() string { return s.path }

// DB returns the underlying Pebble DB for metrics and tools. Writing to it directly bypasses the
// offset bookkeeping.
func (s *Storage) DB() *pebble.DB { return s.db }

// Open starts recovery mode: from now until MarkRecovered, writes are batched and not synced.
// goka calls it once, right after the builder returned the storage.
func (s *Storage) Open() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.o.readOnly || s.opened.Swap(true) {
		return nil // goka opens once; a second Open must not restart recovery mode
	}
	s.mu.Lock()
	s.progress.Store(startProgress(s))
	s.batch = s.db.NewBatch()
	s.recovering.Store(true)
	s.mu.Unlock()
	return nil
}

// Has reports whether key is stored.
func (s *Storage) Has(key string) (bool, error) {
	v, err := s.get(key, false)
	return v != nil, err
}

// Get returns a copy of key's value, or nil when the key is absent. An empty stored value comes
// back as a non-nil empty slice, so goka can tell it from a missing key.
func (s *Storage) Get(key string) ([]byte, error) {
	return s.get(key, true)
}

func (s *Storage) get(key string, copyValue bool) ([]byte, error) {
	if err := s.beforeRead(); err != nil {
		return nil, err
	}
	v, closer, err := s.db.Get(dataKey(nil, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tables: get from %s: %w", s.path, err)
	}
	defer closer.Close()
	if !copyValue {
		return []byte{}, nil
	}
	return append(make([]byte, 0, len(v)), v...), nil
}

// Set stores value under key. The value is copied; the caller may reuse it.
func (s *Storage) Set(key string, value []byte) error {
	if value == nil {
		return fmt.Errorf("tables: set %s: %w", s.path, ErrNilValue)
	}
	return s.write(key, value, false)
}

// Delete removes key; deleting a missing key is not an error.
func (s *Storage) Delete(key string) error {
	return s.write(key, nil, true)
}

func (s *Storage) write(key string, value []byte, del bool) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scratch = dataKey(s.scratch[:0], key)
	if s.batch != nil {
		var err error
		if del {
			err = s.batch.Delete(s.scratch, nil)
		} else {
			err = s.batch.Set(s.scratch, value, nil)
		}
		if err != nil {
			return fmt.Errorf("tables: batch write to %s: %w", s.path, err)
		}
		s.pending.Store(true)
		s.progress.Load().record()
		// Normally batches are committed after SetOffset, on a message boundary. A caller that
		// never sets offsets still must not grow the batch without bound.
		if s.batch.Len() >= 4*s.o.recoveryBatchBytes {
			return s.commitLocked(pebble.NoSync)
		}
		return nil
	}
	if s.offsetDirty {
		return s.writeWithOffsetLocked(value, del)
	}
	wo := s.dataWriteOptions()
	var err error
	if del {
		err = s.db.Delete(s.scratch, wo)
	} else {
		err = s.db.Set(s.scratch, value, wo)
	}
	if err != nil {
		return fmt.Errorf("tables: write to %s: %w", s.path, err)
	}
	return nil
}

// writeWithOffsetLocked commits the table write in s.scratch together with the pending offset.
// That offset was set after the data it describes had been written (goka sets it when Kafka has
// acknowledged the changelog record of an earlier write), so the batch never puts the offset
// ahead of the data, and a running processor pays one commit per table write instead of two.
func (s *Storage) writeWithOffsetLocked(value []byte, del bool) error {
	b := s.db.NewBatch()
	defer b.Close()
	var err error
	if del {
		err = b.Delete(s.scratch, nil)
	} else {
		err = b.Set(s.scratch, value, nil)
	}
	if err == nil {
		err = b.Set(offsetKey, strconv.AppendInt(nil, s.offset.Load(), 10), nil)
	}
	if err == nil {
		err = b.Commit(s.dataWriteOptions())
	}
	if err != nil {
		return fmt.Errorf("tables: write with offset to %s: %w", s.path, err)
	}
	s.offsetDirty = false
	return nil
}

func (s *Storage) dataWriteOptions() *pebble.WriteOptions {
	if s.o.syncPolicy == SyncEveryWrite {
		return pebble.Sync
	}
	return pebble.NoSync
}

// GetOffset returns the local offset: the last one set in this process, else the stored one, else
// def.
func (s *Storage) GetOffset(def int64) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if s.offsetSet.Load() {
		return s.offset.Load(), nil
	}
	v, closer, err := s.db.Get(offsetKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return def, nil
	}
	if err != nil {
		return 0, fmt.Errorf("tables: read offset of %s: %w", s.path, err)
	}
	defer closer.Close()
	off, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("tables: offset %q of %s: %w", v, s.path, ErrCorruptOffset)
	}
	return off, nil
}

// SetOffset records the changelog offset the stored data has reached. During recovery it joins the
// current batch (and may commit it: the batch then ends on a message boundary). Afterwards it is
// written at once when the SyncPolicy wants a sync now (SyncEveryWrite, or SyncOnOffset once its
// interval has passed), else it is kept and committed in the batch of the next table write.
// GetOffset returns it either way.
func (s *Storage) SetOffset(offset int64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset.Store(offset)
	s.offsetSet.Store(true)
	val := strconv.AppendInt(nil, offset, 10)
	if s.batch != nil {
		if err := s.batch.Set(offsetKey, val, nil); err != nil {
			return fmt.Errorf("tables: batch offset to %s: %w", s.path, err)
		}
		s.pending.Store(true)
		s.progress.Load().offset(offset)
		if s.batch.Len() >= s.o.recoveryBatchBytes {
			return s.commitLocked(pebble.NoSync)
		}
		return nil
	}
	s.offsetDirty = true
	if !s.offsetSyncDue() {
		return nil
	}
	if err := s.db.Set(offsetKey, val, pebble.Sync); err != nil {
		return fmt.Errorf("tables: write offset to %s: %w", s.path, err)
	}
	s.offsetDirty = false
	return nil
}

// offsetSyncDue reports whether an offset set now must be written and synced at once.
func (s *Storage) offsetSyncDue() bool {
	switch s.o.syncPolicy {
	case SyncEveryWrite:
		return true
	case SyncOnOffset:
		now := s.o.now()
		if now.Sub(s.lastSync) >= s.o.offsetSyncInterval {
			s.lastSync = now
			return true
		}
	}
	return false
}

// commitLocked commits the recovery batch and starts a new one. s.mu must be held.
func (s *Storage) commitLocked(wo *pebble.WriteOptions) error {
	if s.batch == nil || s.batch.Empty() {
		return nil
	}
	if err := s.batch.Commit(wo); err != nil {
		return fmt.Errorf("tables: commit batch to %s: %w", s.path, err)
	}
	_ = s.batch.Close() // a committed batch only returns its memory; Close cannot fail here
	s.batch = s.db.NewBatch()
	s.pending.Store(false)
	return nil
}

// beforeRead makes pending recovery writes visible to the reader that follows.
func (s *Storage) beforeRead() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.pending.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(pebble.NoSync)
}

// MarkRecovered ends recovery mode: the last batch is committed together with its offset and the
// WAL is synced once. Calling it again, or without Open, does nothing.
func (s *Storage) MarkRecovered() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.recovering.Load() {
		return nil
	}
	s.mu.Lock()
	err := s.endRecoveryLocked()
	s.mu.Unlock()
	s.progress.Load().finish(err == nil)
	return err
}

// endRecoveryLocked commits what recovery left, synced, and leaves recovery mode. s.mu must be held.
func (s *Storage) endRecoveryLocked() error {
	if s.batch == nil {
		return nil
	}
	if s.batch.Empty() {
		// Earlier NoSync commits still need one sync; an empty synced write forces it.
		if err := s.db.LogData(nil, pebble.Sync); err != nil {
			return fmt.Errorf("tables: sync %s: %w", s.path, err)
		}
	} else if err := s.batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("tables: commit final batch to %s: %w", s.path, err)
	}
	_ = s.batch.Close()
	s.batch = nil
	s.pending.Store(false)
	s.recovering.Store(false)
	s.lastSync = s.o.now()
	return nil
}

// Close commits pending writes and the last offset, syncs and closes the DB. Later calls return
// ErrClosed.
func (s *Storage) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	s.mu.Lock()
	var errs []error
	if s.batch != nil {
		errs = append(errs, s.endRecoveryLocked())
	}
	if s.offsetDirty {
		if err := s.db.Set(offsetKey, strconv.AppendInt(nil, s.offset.Load(), 10), pebble.Sync); err != nil {
			errs = append(errs, fmt.Errorf("tables: write offset to %s: %w", s.path, err))
		}
		s.offsetDirty = false
	}
	s.mu.Unlock()
	s.progress.Load().finish(false)
	s.o.registry.remove(s)
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("tables: close %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}

// dataKey appends the stored form of a table key to dst.
func dataKey(dst []byte, key string) []byte {
	dst = append(dst, keyData)
	return append(dst, key...)
}

// dataKeyBytes is dataKey for a []byte key; nil stays the start of the namespace.
func dataKeyBytes(key []byte) []byte {
	k := make([]byte, 0, len(key)+1)
	k = append(k, keyData)
	return append(k, key...)
}
