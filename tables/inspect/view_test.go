package inspect_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/inspect"
)

// TestViewSourceMatchesDirSource feeds the same table to a goka View (through goka's tester, no
// Kafka) and to a data dir, and checks that both sources answer Get, Scan and Count alike.
func TestViewSourceMatchesDirSource(t *testing.T) {
	const table = "view-counts-table"
	tt := tester.New(t)
	// The tester swaps in its memory store; the source puts its Pebble store back (goka's memory
	// store has other range semantics, see storagetest.MemoryQuirks).
	src, err := inspect.NewViewSource(nil, inspect.WithGokaViewOptions(goka.WithViewTester(tt)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, found, err := src.Get(ctx, table, "nothing-yet"); err != nil || found {
		t.Fatalf("Get on the empty view = %t, %v", found, err)
	}

	offline := t.TempDir()
	st, err := tables.NewBuilder(offline)(table, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range 300 {
		key := fmt.Sprintf("user-%03d", (i*37)%200)
		value := fmt.Sprintf("count=%d", i)
		tt.Consume(table, key, []byte(value))
		if err := st.Set(key, []byte(value)); err != nil {
			t.Fatal(err)
		}
		want[key] = value
	}
	tt.Consume(table, "user-007", nil) // a tombstone deletes
	if err := st.Delete("user-007"); err != nil {
		t.Fatal(err)
	}
	delete(want, "user-007")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	dir, err := inspect.OpenDir(offline)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()

	for _, key := range []string{"user-000", "user-007", "user-199", "user-200"} {
		vrec, vfound, verr := src.Get(ctx, table, key)
		drec, dfound, derr := dir.Get(ctx, table, key)
		if verr != nil || derr != nil || vfound != dfound || string(vrec.Value) != string(drec.Value) {
			t.Fatalf("Get(%s): view %v %t %v, dir %v %t %v", key, vrec, vfound, verr, drec, dfound, derr)
		}
		if w, ok := want[key]; ok != vfound || string(vrec.Value) != w {
			t.Fatalf("Get(%s) = %q, %t; want %q, %t", key, vrec.Value, vfound, w, ok)
		}
	}
	queries := []inspect.Query{
		{}, {Prefix: "user-1"}, {Prefix: "user-00"}, {Start: "user-050", End: "user-060"},
		{Start: "user-190"}, {Limit: 5}, {Prefix: "nobody"},
	}
	for _, q := range queries {
		collect := func(s inspect.Source) []string {
			var out []string
			if err := s.Scan(ctx, table, q, func(r inspect.Record) error {
				out = append(out, r.Key+"="+string(r.Value))
				return nil
			}); err != nil {
				t.Fatalf("Scan(%+v): %v", q, err)
			}
			return out
		}
		v, d := collect(src), collect(dir)
		if !slices.Equal(v, d) {
			t.Fatalf("Scan(%+v): view %q\ndir %q", q, v, d)
		}
		vn, verr := src.Count(ctx, table, q)
		dn, derr := dir.Count(ctx, table, q)
		if verr != nil || derr != nil || vn != dn {
			t.Fatalf("Count(%+v): view %d %v, dir %d %v", q, vn, verr, dn, derr)
		}
	}
	n, err := src.Count(ctx, table, inspect.Query{})
	if err != nil || n != int64(len(want)) || n != 199 {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(want))
	}
}
