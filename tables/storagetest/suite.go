package storagetest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/lovoo/goka/storage"
)

// OpenFunc returns a storage over the state kept in dir, before goka's Open is called. A fresh
// t.TempDir() means an empty store; the same dir again means a reopen after Close. Stores without
// persistence ignore dir.
type OpenFunc func(t *testing.T, dir string) storage.Storage

// Quirks are the known ways a store departs from goka's LevelDB store. Each one is asserted exactly
// when set.
type Quirks struct {
	// AliasesValues: Set keeps the caller's slice and Get returns the stored slice itself, so
	// mutating either changes the store (goka's memory store).
	AliasesValues bool
	// InclusiveRanges: IteratorWithRange includes a key equal to its limit, also to the limit it
	// computes for a prefix (so prefix "a" returns "b" too), and a prefix without upper bound (nil,
	// empty or all 0xff) gets the empty key as limit, so it returns at most "" instead of every key
	// >= start (goka's memory store).
	InclusiveRanges bool
	// UnpositionedPanics: Key and Value panic before the first Next or Seek instead of returning
	// nil (goka's memory store).
	UnpositionedPanics bool
	// PrefixSeek: Seek moves forward only, to the next key that has the target as a prefix, instead
	// of to the first key >= target; it fails on an exhausted iterator (goka's memory store).
	PrefixSeek bool
	// ReleasedErrNil: Err stays nil after Next or Seek on a released iterator (goka's memory store).
	ReleasedErrNil bool
	// NilValueStored: Set(key, nil) succeeds and stores an empty value instead of failing
	// (goka's LevelDB store).
	NilValueStored bool
	// ZeroOffsetForgotten: SetOffset(0) before MarkRecovered is not kept: GetOffset returns the
	// default, and Close does not persist it (goka's LevelDB store keeps 0 as "unset").
	ZeroOffsetForgotten bool
	// OffsetKeyVisible: the offset lives under the table key "__offset", so after an offset was
	// written a Seek can land on it and Get("__offset") returns it (goka's LevelDB store).
	OffsetKeyVisible bool
	// MarkRecoveredOnce: calling MarkRecovered twice panics (goka's LevelDB store closes a channel).
	MarkRecoveredOnce bool
}

// MemoryQuirks are the quirks of goka's storage.NewMemory.
var MemoryQuirks = Quirks{
	AliasesValues:      true,
	InclusiveRanges:    true,
	UnpositionedPanics: true,
	PrefixSeek:         true,
	ReleasedErrNil:     true,
}

// LevelDBQuirks are the quirks of goka's storage.New on a LevelDB DB.
var LevelDBQuirks = Quirks{
	NilValueStored:      true,
	ZeroOffsetForgotten: true,
	OffsetKeyVisible:    true,
	MarkRecoveredOnce:   true,
}

// Config describes the store under test.
type Config struct {
	Open OpenFunc
	// Persistent stores are also checked for what survives Close and a reopen.
	Persistent bool
	Quirks     Quirks
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, c Config) {
	h := &harness{c: c}
	t.Run("KeyValue", h.testKeyValue)
	t.Run("ValueOwnership", h.testValueOwnership)
	t.Run("Offsets", h.testOffsets)
	t.Run("IteratorOrder", h.testIteratorOrder)
	t.Run("Ranges", h.testRanges)
	t.Run("Seek", h.testSeek)
	t.Run("IteratorLifecycle", h.testIteratorLifecycle)
	t.Run("Snapshot", h.testSnapshot)
	t.Run("RecoveryMode", h.testRecoveryMode)
	t.Run("ConcurrentReaders", h.testConcurrentReaders)
	if c.Persistent {
		t.Run("Persistence", h.testPersistence)
	}
}

type harness struct{ c Config }

// handle wraps a storage so that the suite closes it exactly once (goka's LevelDB store panics on a
// second Close).
type handle struct {
	storage.Storage
	once   sync.Once
	closeE error
}

func (h *handle) close() error {
	h.once.Do(func() { h.closeE = h.Storage.Close() })
	return h.closeE
}

// open builds the store over dir and calls Open, as goka does.
func (h *harness) open(t *testing.T, dir string) *handle {
	t.Helper()
	st := &handle{Storage: h.c.Open(t, dir)}
	t.Cleanup(func() { _ = st.close() })
	if err := st.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

// openRecovered is open followed by MarkRecovered: the state a processor callback sees.
func (h *harness) openRecovered(t *testing.T) *handle {
	t.Helper()
	st := h.open(t, t.TempDir())
	if err := st.MarkRecovered(); err != nil {
		t.Fatalf("MarkRecovered: %v", err)
	}
	return st
}

type kv struct{ k, v string }

func mustSet(t *testing.T, st storage.Storage, pairs ...kv) {
	t.Helper()
	for _, p := range pairs {
		if err := st.Set(p.k, []byte(p.v)); err != nil {
			t.Fatalf("Set(%q): %v", p.k, err)
		}
	}
}

// drain reads an iterator to its end with Next and releases it.
func drain(t *testing.T, it storage.Iterator) []kv {
	t.Helper()
	defer it.Release()
	var got []kv
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			t.Fatalf("Value at %q: %v", it.Key(), err)
		}
		got = append(got, kv{string(it.Key()), string(v)})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iteration ended with %v", err)
	}
	return got
}

func equalKVs(a, b []kv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func keysOf(pairs []kv) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k
	}
	return out
}

func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }
