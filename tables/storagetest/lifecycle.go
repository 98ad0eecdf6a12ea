package storagetest

import (
	"testing"
)

func (h *harness) testIteratorLifecycle(t *testing.T) {
	q := h.c.Quirks
	t.Run("empty store", func(t *testing.T) {
		st := h.openRecovered(t)
		it, err := st.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		if got := drain(t, it); len(got) != 0 {
			t.Fatalf("empty store iterates %q", got)
		}
	})

	t.Run("before first Next", func(t *testing.T) {
		st := h.fixture(t)
		it, err := st.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		defer it.Release()
		if q.UnpositionedPanics {
			if !panics(func() { it.Key() }) || !panics(func() { _, _ = it.Value() }) {
				t.Fatal("quirk UnpositionedPanics: Key and Value before Next did not panic")
			}
		} else if v, err := it.Value(); it.Key() != nil || v != nil || err != nil || it.Err() != nil {
			t.Fatalf("unpositioned iterator: Key %q Value %q, %v, Err %v; want nil everywhere", it.Key(), v, err, it.Err())
		}
		if !it.Next() || string(it.Key()) != fixtureKeys[0] {
			t.Fatalf("first Next at %q, want %q", it.Key(), fixtureKeys[0])
		}
	})

	t.Run("after the end", func(t *testing.T) {
		st := h.fixture(t)
		it, err := st.IteratorWithRange([]byte("ab"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Release()
		runSteps(t, it, []step{next(true, "ab"), next(true, "abc"), next(false, ""), next(false, "")})
		v, err := it.Value()
		if v != nil || err != nil || it.Err() != nil {
			t.Fatalf("exhausted iterator: Value %q, %v, Err %v", v, err, it.Err())
		}
	})

	t.Run("empty value", func(t *testing.T) {
		st := h.openRecovered(t)
		mustSetBytes(t, st, "e", []byte{})
		it, err := st.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		defer it.Release()
		if !it.Next() || string(it.Key()) != "e" {
			t.Fatalf("Next at %q, want e", it.Key())
		}
		if v, err := it.Value(); err != nil || len(v) != 0 {
			t.Fatalf("Value = %q, %v; want empty", v, err)
		}
	})

	t.Run("release", func(t *testing.T) {
		st := h.fixture(t)
		it, err := st.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		if !it.Next() {
			t.Fatal("Next on the fixture = false")
		}
		it.Release()
		it.Release() // twice must be harmless
		if it.Next() || it.Seek([]byte("a")) || it.Key() != nil {
			t.Fatalf("released iterator still moves (Key %q)", it.Key())
		}
		if v, err := it.Value(); v != nil || err != nil {
			t.Fatalf("released iterator: Value %q, %v", v, err)
		}
		if gotErr := it.Err() != nil; gotErr == q.ReleasedErrNil {
			t.Fatalf("Err after using a released iterator = %v (quirk ReleasedErrNil %t)", it.Err(), q.ReleasedErrNil)
		}
	})
}

// testSnapshot checks that an iterator sees the store as it was when the iterator was made
// (goka's LevelDB iterators read a snapshot; its memory store copies).
func (h *harness) testSnapshot(t *testing.T) {
	st := h.openRecovered(t)
	mustSet(t, st, kv{"a", "1"}, kv{"b", "2"}, kv{"c", "3"})
	it, err := st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, st, kv{"a", "changed"}, kv{"bb", "new"})
	if err := st.Delete("c"); err != nil {
		t.Fatal(err)
	}
	got := drain(t, it)
	if want := []kv{{"a", "1"}, {"b", "2"}, {"c", "3"}}; !equalKVs(got, want) {
		t.Fatalf("iterator saw later writes: %q, want %q", got, want)
	}
	if v, _ := st.Get("a"); string(v) != "changed" {
		t.Fatalf("Get(a) = %q after the iterator, want changed", v)
	}
}

func panics(f func()) (did bool) {
	defer func() { did = recover() != nil }()
	f()
	return false
}
