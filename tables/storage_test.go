package tables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBuilderOpensOneDBPerPartition(t *testing.T) {
	dir := t.TempDir()
	build := NewBuilder(dir, WithCacheSize(1<<20))
	writes := []struct {
		topic     string
		partition int32
		key, val  string
		offset    int64
	}{
		{"orders-table", 0, "a", "p0", 10},
		{"orders-table", 1, "a", "p1", 20},
		{"stock-table", 0, "a", "s0", 30},
	}
	for _, w := range writes {
		st, err := build(w.topic, w.partition)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Open(); err != nil {
			t.Fatal(err)
		}
		if err := st.Set(w.key, []byte(w.val)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetOffset(w.offset); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkRecovered(); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(readDir(t, dir), ","), "orders-table.0,orders-table.1,stock-table.0"; got != want {
		t.Fatalf("data dir holds %s, want %s", got, want)
	}
	// A second builder (a restarted processor) sees each partition's own data and offset.
	again := NewBuilder(dir)
	for _, w := range writes {
		st, err := again(w.topic, w.partition)
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.Get(w.key)
		off, oerr := st.GetOffset(-1)
		if err != nil || oerr != nil || string(v) != w.val || off != w.offset {
			t.Fatalf("%s.%d: Get = %q, %v; offset %d, %v; want %q, %d", w.topic, w.partition, v, err, off, oerr, w.val, w.offset)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOptionsAreValidated(t *testing.T) {
	cases := []struct {
		name string
		dir  string
		opt  Option
	}{
		{"negative cache", "d", WithCacheSize(-1)},
		{"tiny memtable", "d", WithMemTableSize(1024)},
		{"unknown sync policy", "d", WithSyncPolicy(SyncPolicy(9))},
		{"zero recovery batch", "d", WithRecoveryBatchSize(0)},
		{"zero progress interval", "d", WithProgressInterval(0)},
		{"nil logger", "d", WithLogger(nil)},
		{"empty dir", "", WithCacheSize(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewBuilderE(tc.dir, tc.opt); !errors.Is(err, ErrBadOption) {
				t.Fatalf("NewBuilderE = %v, want ErrBadOption", err)
			}
			if _, err := NewBuilder(tc.dir, tc.opt)("t", 0); !errors.Is(err, ErrBadOption) {
				t.Fatalf("builder from NewBuilder = %v, want ErrBadOption", err)
			}
		})
	}
}

func TestParseSyncPolicy(t *testing.T) {
	cases := []struct {
		in   string
		want SyncPolicy
		err  bool
	}{
		{"offset", SyncOnOffset, false},
		{"always", SyncEveryWrite, false},
		{"never", SyncNever, false},
		{"sometimes", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseSyncPolicy(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Fatalf("ParseSyncPolicy(%q) = %v, %v", tc.in, got, err)
		}
		if !tc.err && got.String() != tc.in {
			t.Fatalf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func TestReadOnlyAndClosed(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOffset(3); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := st.Get("k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}

	ro, err := Open(dir, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Open(); err != nil {
		t.Fatal(err)
	}
	v, err := ro.Get("k")
	off, oerr := ro.GetOffset(-1)
	if err != nil || oerr != nil || string(v) != "v" || off != 3 {
		t.Fatalf("read-only: Get = %q, %v; offset %d, %v", v, err, off, oerr)
	}
	if err := ro.Set("k", []byte("x")); err == nil {
		t.Fatal("Set on a read-only storage succeeded")
	}
	if _, err := Open(filepath.Join(dir, "missing"), WithReadOnly()); err == nil {
		t.Fatal("read-only Open of a missing dir succeeded")
	}
}

// fakeClock is a settable clock for progress arithmetic.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestRecoveryProgressRateAndETA(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	hwmAsked := make(chan struct{}, 1)
	st, err := openForTest(t, WithLogger(logger), WithProgressInterval(5*time.Millisecond),
		WithHighWaterMark(func(_ context.Context, topic string, partition int32) (int64, error) {
			if topic != "t-table" || partition != 3 {
				return 0, errors.New("wrong partition")
			}
			select {
			case hwmAsked <- struct{}{}:
			default:
			}
			return 2100, nil
		}), withClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := st.Set("k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := st.SetOffset(int64(100 + i)); err != nil {
			t.Fatal(err)
		}
	}
	clock.add(2 * time.Second)
	<-hwmAsked
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "eta=2s") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p, ok := st.Progress()
	eta, etaOK := p.ETA()
	// 1000 offsets in 2 s, 1000 offsets left (100..1099 done, 1100..2099 to go): 2 s.
	if !ok || p.Records != 1000 || p.FirstOffset != 100 || p.LastOffset != 1099 || p.HighWaterMark != 2100 ||
		p.Rate() != 500 || !etaOK || eta != 2*time.Second {
		t.Fatalf("progress = %+v, rate %v, eta %v %t", p, p.Rate(), eta, etaOK)
	}
	wantLine := `level=INFO msg="table recovery progress" topic=t-table partition=3 records=1000 offset=1099 rate_per_s=500 elapsed=2s high_water_mark=2100 eta=2s`
	if !strings.Contains(logs.String(), wantLine) {
		t.Fatalf("log lacks %q:\n%s", wantLine, logs.String())
	}
	clock.add(2 * time.Second)
	if err := st.MarkRecovered(); err != nil {
		t.Fatal(err)
	}
	wantDone := `level=INFO msg="table recovered" topic=t-table partition=3 records=1000 offset=1099 duration=4s rate_per_s=250`
	if !strings.Contains(logs.String(), wantDone) {
		t.Fatalf("log lacks %q:\n%s", wantDone, logs.String())
	}
	if p, _ := st.Progress(); !p.Done || p.Elapsed != 4*time.Second {
		t.Fatalf("after MarkRecovered: %+v", p)
	}
}

// openForTest opens a storage as partition 3 of "t-table" and calls Open.
func openForTest(t *testing.T, opts ...Option) (*Storage, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	st, err := openDB(t.TempDir(), "t-table", 3, nil, o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, st.Open()
}

func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// storedOffset reads the offset as it is in the DB, bypassing the in-memory copy GetOffset returns.
func storedOffset(t *testing.T, st *Storage) string {
	t.Helper()
	v, closer, err := st.DB().Get(offsetKey)
	if err != nil {
		return "none"
	}
	defer closer.Close()
	return string(v)
}

func TestOffsetWritesAfterRecovery(t *testing.T) {
	type step struct {
		do         string // "offset", "set", "tick" (advance the clock 1 h), "close"
		n          int64
		wantStored string // offset in the DB after the step
	}
	cases := []struct {
		name   string
		policy SyncPolicy
		steps  []step
	}{
		{"offset rides with the next write", SyncNever, []step{
			{"offset", 5, "none"}, {"set", 0, "5"}, {"offset", 6, "5"}, {"offset", 7, "5"}, {"set", 0, "7"},
		}},
		{"sync due writes at once, otherwise rides along", SyncOnOffset, []step{
			{"offset", 5, "none"}, {"tick", 0, "none"}, {"offset", 6, "6"}, {"offset", 7, "6"}, {"set", 0, "7"},
		}},
		{"every write", SyncEveryWrite, []step{
			{"offset", 5, "5"}, {"set", 0, "5"}, {"offset", 6, "6"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			st, err := openForTest(t, WithSyncPolicy(tc.policy), WithOffsetSyncInterval(time.Hour), withClock(clock.now))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.MarkRecovered(); err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				switch s.do {
				case "offset":
					err = st.SetOffset(s.n)
				case "set":
					err = st.Set("k", []byte("v"))
				case "tick":
					clock.add(time.Hour)
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := storedOffset(t, st); got != s.wantStored {
					t.Fatalf("step %d (%s %d): stored offset %s, want %s", i, s.do, s.n, got, s.wantStored)
				}
			}
			last := tc.steps[len(tc.steps)-1]
			if off, err := st.GetOffset(-1); err != nil || (last.do == "offset" && off != last.n) {
				t.Fatalf("GetOffset = %d, %v", off, err)
			}
		})
	}
}

func TestCloseWritesTheLastOffset(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, WithSyncPolicy(SyncNever))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetOffset(41); err != nil {
		t.Fatal(err)
	}
	if got := storedOffset(t, st); got != "none" {
		t.Fatalf("stored before Close: %s", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if off, err := re.GetOffset(-1); err != nil || off != 41 {
		t.Fatalf("after reopen GetOffset = %d, %v; want 41", off, err)
	}
}

func TestSecondOpenDoesNotRestartRecovery(t *testing.T) {
	st, err := openForTest(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRecovered(); err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	if st.recovering.Load() {
		t.Fatal("second Open entered recovery mode again")
	}
	if p, ok := st.Progress(); !ok || !p.Done {
		t.Fatalf("progress after second Open = %+v, %t; want the finished recovery", p, ok)
	}
}

func TestRegistryReportsOpenPartitions(t *testing.T) {
	reg := NewRegistry()
	build := NewBuilder(t.TempDir(), WithRegistry(reg), WithCacheSize(1<<20))
	a, err := build("b-table", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := build("a-table", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Open(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := a.Set(fmt.Sprint(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.SetOffset(9); err != nil {
		t.Fatal(err)
	}
	stats := reg.Stats()
	if len(stats) != 2 || stats[0].Topic != "a-table" || stats[1].Topic != "b-table" || stats[1].Partition != 1 {
		t.Fatalf("stats = %+v", stats)
	}
	if stats[0].Started || !stats[1].Started || stats[1].Recovery.Records != 10 || stats[1].Recovery.LastOffset != 9 ||
		stats[1].Recovery.Done || stats[1].DiskBytes == 0 {
		t.Fatalf("stats = %+v", stats)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := reg.Stats(); len(got) != 0 {
		t.Fatalf("after Close: %+v", got)
	}
}

// TestDamagedStateIsRebuilt: a partition whose Pebble files are damaged — an sstable its MANIFEST
// names deleted, or the MANIFEST overwritten with garbage — opens empty (goka then rebuilds it
// from the changelog) instead of failing at every restart; a read-only open still fails.
func TestDamagedStateIsRebuilt(t *testing.T) {
	damages := map[string]func(t *testing.T, dir string){
		"sstable gone": func(t *testing.T, dir string) {
			removeFiles(t, dir, ".sst")
		},
		"manifest garbage": func(t *testing.T, dir string) {
			for _, e := range readDir(t, dir) {
				if strings.HasPrefix(e, "MANIFEST-") {
					if err := os.WriteFile(filepath.Join(dir, e), bytes.Repeat([]byte{0xa5}, 300), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			build := NewBuilder(dir)
			st, err := build("t-table", 0)
			if err != nil {
				t.Fatal(err)
			}
			s := st.(*Storage)
			for i := range 100 {
				if err := s.Set(fmt.Sprint("k", i), []byte("v")); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetOffset(99); err != nil {
				t.Fatal(err)
			}
			if err := s.DB().Flush(); err != nil { // the keys into an sstable the MANIFEST names
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			part := PartitionDir(dir, "t-table", 0)
			damage(t, part)
			if _, err := Open(part, WithReadOnly()); err == nil {
				t.Fatal("read-only open of damaged state succeeded")
			}
			st, err = build("t-table", 0)
			if err != nil {
				t.Fatalf("damaged state not rebuilt: %v", err)
			}
			defer st.Close()
			off, err := st.GetOffset(-2)
			if err != nil || off != -2 {
				t.Errorf("offset after the rebuild %d (%v), want none (-2): goka recovers from the changelog's start", off, err)
			}
			if v, err := st.Get("k1"); err != nil || v != nil {
				t.Errorf("k1 after the rebuild: %q (%v), want absent", v, err)
			}
		})
	}
}

func readDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func removeFiles(t *testing.T, dir, suffix string) {
	t.Helper()
	n := 0
	for _, e := range readDir(t, dir) {
		if strings.HasSuffix(e, suffix) {
			if err := os.Remove(filepath.Join(dir, e)); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no %s file in %s", suffix, dir)
	}
}
