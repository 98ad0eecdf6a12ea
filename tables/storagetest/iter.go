package storagetest

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lovoo/goka/storage"
)

// fixtureKeys in byte order. "_", "__a" and "__p" surround "__offset", the key goka's LevelDB
// store keeps its offset under, so a store that leaks its offset into iteration is caught.
var fixtureKeys = []string{
	"", "\x00", "_", "__a", "__p", "a", "aa", "ab", "abc", "a\xff", "b", "ba", "c",
	"\xff", "\xff\xff", "\xff\xff\x01",
}

// fixture opens a recovered store holding fixtureKeys (value "v:"+key), written in a shuffled
// order, with an offset written after recovery.
func (h *harness) fixture(t *testing.T) *handle {
	t.Helper()
	st := h.openRecovered(t)
	keys := slices.Clone(fixtureKeys)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		mustSet(t, st, kv{k, "v:" + k})
	}
	if err := st.SetOffset(42); err != nil {
		t.Fatalf("SetOffset: %v", err)
	}
	return st
}

func fixtureKVs(keys ...string) []kv {
	out := make([]kv, len(keys))
	for i, k := range keys {
		out[i] = kv{k, "v:" + k}
	}
	return out
}

func (h *harness) testIteratorOrder(t *testing.T) {
	st := h.fixture(t)
	it, err := st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := drain(t, it), fixtureKVs(fixtureKeys...); !equalKVs(got, want) {
		t.Fatalf("Iterator() = %q\nwant %q", keysOf(got), keysOf(want))
	}

	// Deleted and overwritten keys show their latest state.
	if err := st.Delete("ab"); err != nil {
		t.Fatal(err)
	}
	mustSet(t, st, kv{"b", "new"})
	it, err = st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, it)
	want := []kv{{"aa", "v:aa"}, {"abc", "v:abc"}, {"a\xff", "v:a\xff"}, {"b", "new"}, {"ba", "v:ba"}}
	if !equalKVs(got[6:11], want) || len(got) != len(fixtureKeys)-1 {
		t.Fatalf("after delete/overwrite: %q", got)
	}
}

func (h *harness) testRanges(t *testing.T) {
	q := h.c.Quirks
	cases := []struct {
		name         string
		start, limit []byte
		want         []string
		// wantMemory is the result under InclusiveRanges (goka's memory store); nil means the
		// same as want.
		wantMemory []string
	}{
		{"nil start, nil limit: everything", nil, nil, fixtureKeys, []string{""}},
		{"empty limit slice acts like nil", []byte{}, []byte{}, fixtureKeys, []string{""}},
		{"prefix a", []byte("a"), nil, []string{"a", "aa", "ab", "abc", "a\xff"},
			[]string{"a", "aa", "ab", "abc", "a\xff", "b"}},
		{"prefix ab", []byte("ab"), nil, []string{"ab", "abc"}, nil},
		{"prefix ending in 0xff", []byte("a\xff"), nil, []string{"a\xff"}, []string{"a\xff", "b"}},
		{"prefix of 0xff only is unbounded", []byte("\xff\xff"), nil, []string{"\xff\xff", "\xff\xff\x01"}, []string{}},
		{"prefix with no match", []byte("zz"), nil, []string{}, nil},
		{"prefix around the offset key", []byte("__"), nil, []string{"__a", "__p"}, nil},
		{"range a..b excludes b", []byte("a"), []byte("b"), []string{"a", "aa", "ab", "abc", "a\xff"},
			[]string{"a", "aa", "ab", "abc", "a\xff", "b"}},
		{"range a..ab is not a prefix scan", []byte("a"), []byte("ab"), []string{"a", "aa"}, []string{"a", "aa", "ab"}},
		{"nil start with limit", nil, []byte("a"), []string{"", "\x00", "_", "__a", "__p"},
			[]string{"", "\x00", "_", "__a", "__p", "a"}},
		{"range aa..c", []byte("aa"), []byte("c"), []string{"aa", "ab", "abc", "a\xff", "b", "ba"},
			[]string{"aa", "ab", "abc", "a\xff", "b", "ba", "c"}},
		{"start equals limit", []byte("ab"), []byte("ab"), []string{}, []string{"ab"}},
		{"start after limit", []byte("b"), []byte("a"), []string{}, nil},
	}
	st := h.fixture(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if q.InclusiveRanges && tc.wantMemory != nil {
				want = tc.wantMemory
			}
			it, err := st.IteratorWithRange(tc.start, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(drain(t, it)); !slices.Equal(got, want) {
				t.Fatalf("IteratorWithRange(%q, %q) = %q, want %q", tc.start, tc.limit, got, want)
			}
		})
	}
}

// step is one move of an iterator and what it must report afterwards.
type step struct {
	seek    string // target; "" with next=true means Next
	next    bool
	wantOK  bool
	wantKey string // checked when wantOK; Key must be nil otherwise
}

func seek(target string, ok bool, key string) step {
	return step{seek: target, wantOK: ok, wantKey: key}
}
func next(ok bool, key string) step { return step{next: true, wantOK: ok, wantKey: key} }

func runSteps(t *testing.T, it storage.Iterator, steps []step) {
	t.Helper()
	for i, s := range steps {
		var ok bool
		if s.next {
			ok = it.Next()
		} else {
			ok = it.Seek([]byte(s.seek))
		}
		key := it.Key()
		if ok != s.wantOK {
			t.Fatalf("step %d (%+v): ok = %t, key %q", i, s, ok, key)
		}
		if !ok {
			if key != nil {
				t.Fatalf("step %d (%+v): Key = %q after false, want nil", i, s, key)
			}
			continue
		}
		if string(key) != s.wantKey {
			t.Fatalf("step %d (%+v): Key = %q, want %q", i, s, key, s.wantKey)
		}
		if v, err := it.Value(); err != nil || string(v) != "v:"+s.wantKey {
			t.Fatalf("step %d (%+v): Value = %q, %v", i, s, v, err)
		}
	}
}

func (h *harness) testSeek(t *testing.T) {
	q := h.c.Quirks
	cases := []struct {
		name         string
		start, limit []byte // range of the iterator; both nil: Iterator()
		steps        []step
		prefixSteps  []step // under PrefixSeek (goka's memory store); nil: same as steps
		offsetSteps  []step // under OffsetKeyVisible (goka's LevelDB store); nil: same as steps
	}{
		{name: "exact key, then Next moves past it",
			steps: []step{seek("ab", true, "ab"), next(true, "abc"), next(true, "a\xff")}},
		{name: "absent key lands on the next greater one",
			steps:       []step{seek("ac", true, "a\xff"), next(true, "b")},
			prefixSteps: []step{seek("ac", false, "")}},
		{name: "past the last key",
			steps: []step{seek("\xff\xff\x02", false, ""), next(false, "")}},
		{name: "backwards after moving forward",
			steps:       []step{seek("c", true, "c"), seek("aa", true, "aa"), next(true, "ab")},
			prefixSteps: []step{seek("c", true, "c"), seek("aa", false, "")}},
		{name: "after Next to the end",
			steps: []step{seek("\xff\xff", true, "\xff\xff"), next(true, "\xff\xff\x01"), next(false, ""),
				seek("ba", true, "ba")},
			prefixSteps: []step{seek("\xff\xff", true, "\xff\xff"), next(true, "\xff\xff\x01"), next(false, ""),
				seek("ba", false, "")}},
		{name: "next to the offset key never shows it",
			steps:       []step{seek("__o", true, "__p"), next(true, "a")},
			prefixSteps: []step{seek("__o", false, "")},
			offsetSteps: []step{seek("__o", true, "__offset")}},
		{name: "range: seek below start clamps to start", start: []byte("a"), limit: []byte("b"),
			steps: []step{seek("", true, "a"), next(true, "aa")}},
		{name: "range: seek to limit is outside", start: []byte("a"), limit: []byte("b"),
			steps:       []step{seek("b", false, "")},
			prefixSteps: []step{seek("b", true, "b")}}, // memory's limit is inclusive
		{name: "prefix range: seek inside", start: []byte("ab"),
			steps:       []step{seek("abb", true, "abc"), next(false, "")},
			prefixSteps: []step{seek("abb", false, "")}},
	}
	st := h.fixture(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var it storage.Iterator
			var err error
			if tc.start == nil && tc.limit == nil {
				it, err = st.Iterator()
			} else {
				it, err = st.IteratorWithRange(tc.start, tc.limit)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer it.Release()
			steps := tc.steps
			if q.PrefixSeek && tc.prefixSteps != nil {
				steps = tc.prefixSteps
			}
			if q.OffsetKeyVisible && tc.offsetSteps != nil {
				runOffsetSteps(t, it, tc.offsetSteps)
				return
			}
			runSteps(t, it, steps)
		})
	}
}

// runOffsetSteps is runSteps for landing on goka's LevelDB offset key, whose value is the offset.
func runOffsetSteps(t *testing.T, it storage.Iterator, steps []step) {
	t.Helper()
	for i, s := range steps {
		ok := it.Seek([]byte(s.seek))
		if !ok || string(it.Key()) != s.wantKey {
			t.Fatalf("step %d: Seek(%q) = %t at %q, want %q", i, s.seek, ok, it.Key(), s.wantKey)
		}
		if v, err := it.Value(); err != nil || string(v) != "42" {
			t.Fatalf("step %d: offset value = %q, %v; want 42", i, v, err)
		}
	}
}
