package storagetest

import (
	"fmt"
	"sync"
	"testing"
)

func (h *harness) testOffsets(t *testing.T) {
	q := h.c.Quirks
	cases := []struct {
		name      string
		recovered bool    // MarkRecovered before the writes
		set       []int64 // SetOffset calls in order
		def       int64
		want      int64
	}{
		{"never set returns the default", true, nil, -2, -2},
		{"never set, other default", false, nil, 17, 17},
		{"one offset", true, []int64{5}, -1, 5},
		{"last write wins, also backwards", true, []int64{9, 3}, -1, 3},
		{"during recovery", false, []int64{100, 101, 102}, -1, 102},
		{"zero after recovery", true, []int64{0}, -1, 0},
		{"zero during recovery", false, []int64{0}, -1, 0},
		{"large offset", true, []int64{1<<62 + 7}, -1, 1<<62 + 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := h.open(t, t.TempDir())
			if tc.recovered {
				if err := st.MarkRecovered(); err != nil {
					t.Fatal(err)
				}
			}
			for _, o := range tc.set {
				if err := st.SetOffset(o); err != nil {
					t.Fatalf("SetOffset(%d): %v", o, err)
				}
			}
			want := tc.want
			if q.ZeroOffsetForgotten && !tc.recovered && len(tc.set) > 0 && tc.set[len(tc.set)-1] == 0 {
				want = tc.def
			}
			got, err := st.GetOffset(tc.def)
			if err != nil || got != want {
				t.Fatalf("GetOffset(%d) = %d, %v; want %d", tc.def, got, err, want)
			}
			if !tc.recovered {
				if err := st.MarkRecovered(); err != nil {
					t.Fatal(err)
				}
				if got, err := st.GetOffset(tc.def); err != nil || got != want {
					t.Fatalf("after MarkRecovered: GetOffset = %d, %v; want %d", got, err, want)
				}
			}
		})
	}

	t.Run("offset is not a table key", func(t *testing.T) {
		st := h.openRecovered(t)
		if err := st.SetOffset(7); err != nil {
			t.Fatal(err)
		}
		v, err := st.Get("__offset")
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if q.OffsetKeyVisible {
			want = "7"
		}
		if string(v) != want {
			t.Fatalf(`Get("__offset") = %q, want %q`, v, want)
		}
	})
}

// testRecoveryMode writes the way goka's recovery does (Update then SetOffset per message) and reads
// in between, as a custom update callback may.
func (h *harness) testRecoveryMode(t *testing.T) {
	st := h.open(t, t.TempDir())
	for i := range 1000 {
		key := fmt.Sprintf("k%04d", i%300)
		if i%7 == 6 {
			if err := st.Delete(key); err != nil {
				t.Fatal(err)
			}
		} else {
			mustSet(t, st, kv{key, fmt.Sprint(i)})
		}
		if err := st.SetOffset(int64(i)); err != nil {
			t.Fatal(err)
		}
		if i%97 == 0 { // read-your-writes before MarkRecovered
			got, err := st.Get(key)
			want := fmt.Sprint(i)
			if i%7 == 6 {
				want = ""
			}
			if err != nil || string(got) != want {
				t.Fatalf("during recovery at %d: Get(%s) = %q, %v; want %q", i, key, got, err, want)
			}
		}
	}
	if got, err := st.GetOffset(-1); err != nil || got != 999 {
		t.Fatalf("GetOffset before MarkRecovered = %d, %v; want 999", got, err)
	}
	it, err := st.Iterator() // an iterator made during recovery sees every write so far
	if err != nil {
		t.Fatal(err)
	}
	if got, want := drain(t, it), expectedRecovery(); !equalKVs(got, want) {
		t.Fatalf("iterator before MarkRecovered: %d keys, want %d", len(got), len(want))
	}
	if err := st.MarkRecovered(); err != nil {
		t.Fatal(err)
	}
	if !h.c.Quirks.MarkRecoveredOnce {
		if err := st.MarkRecovered(); err != nil {
			t.Fatalf("second MarkRecovered: %v", err)
		}
	}
	it, err = st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, it)
	want := expectedRecovery()
	if !equalKVs(got, want) {
		t.Fatalf("after recovery %d keys, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
	}
	if off, err := st.GetOffset(-1); err != nil || off != 999 {
		t.Fatalf("GetOffset after MarkRecovered = %d, %v; want 999", off, err)
	}
}

// expectedRecovery is the final state of testRecoveryMode's script, computed independently of any
// store: key k<n> is last written by the largest i < 1000 with i%300 == n.
func expectedRecovery() []kv {
	var out []kv
	for n := range 300 {
		last := n + 300*((999-n)/300)
		if last%7 == 6 {
			continue
		}
		out = append(out, kv{fmt.Sprintf("k%04d", n), fmt.Sprint(last)})
	}
	return out
}

// testConcurrentReaders runs readers beside one writer; with -race it checks the storage contract
// ("any number of concurrent readers with one writer").
func (h *harness) testConcurrentReaders(t *testing.T) {
	st := h.openRecovered(t)
	const n = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if v, err := st.Get(fmt.Sprintf("c%05d", (i*7+r)%n)); err != nil || (v != nil && len(v) != 5) {
					errs <- fmt.Errorf("reader %d: Get = %q, %v", r, v, err)
					return
				}
			}
		}()
	}
	for i := range n {
		mustSet(t, st, kv{fmt.Sprintf("c%05d", i), fmt.Sprintf("%05d", i)})
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	it, err := st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, it); len(got) != n || got[n-1] != (kv{"c01999", "01999"}) {
		t.Fatalf("after concurrent writes: %d keys, last %v", len(got), got[len(got)-1])
	}
}

func (h *harness) testPersistence(t *testing.T) {
	q := h.c.Quirks
	cases := []struct {
		name       string
		recover    bool // MarkRecovered before Close
		offsets    []int64
		wantOffset int64
	}{
		{"recovered, offset after recovery", true, []int64{7, 9}, 9},
		{"closed during recovery keeps its offset", false, []int64{3, 4}, 4},
		{"no offset", true, nil, -1},
		{"zero offset during recovery", false, []int64{0}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := h.open(t, dir)
			mustSet(t, st, kv{"a", "1"}, kv{"b", "2"}, kv{"gone", "x"})
			if tc.recover {
				if err := st.MarkRecovered(); err != nil {
					t.Fatal(err)
				}
			}
			mustSet(t, st, kv{"c", "3"}, kv{"a", "1b"})
			if err := st.Delete("gone"); err != nil {
				t.Fatal(err)
			}
			for _, o := range tc.offsets {
				if err := st.SetOffset(o); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			re := h.open(t, dir)
			want := tc.wantOffset
			if q.ZeroOffsetForgotten && want == 0 {
				want = -1
			}
			if got, err := re.GetOffset(-1); err != nil || got != want {
				t.Fatalf("reopened GetOffset = %d, %v; want %d", got, err, want)
			}
			it, err := re.Iterator()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := drain(t, it), []kv{{"a", "1b"}, {"b", "2"}, {"c", "3"}}; !equalKVs(got, want) {
				t.Fatalf("reopened store = %q, want %q", got, want)
			}
		})
	}
}
