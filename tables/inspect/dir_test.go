package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/inspect"
)

const (
	shopTable  = "shop-counts-table"
	dotTable   = "ns.v1.profiles-table" // topics may contain dots
	totalParts = 4
)

// shopKeys are written to shopTable, each into the partition goka's default hasher assigns it.
// Partition 2 is left out of the data dir, as if another instance of the group owned it.
// With 4 partitions avocado, nectarine and peach hash to partition 2.
var shopKeys = []string{"apple", "apricot", "avocado", "banana", "blueberry", "cherry", "date", "fig", "grape",
	"kiwi", "lemon", "lime", "mango", "nectarine", "peach", "pear", "plum"}

func localShopKeys() []string {
	var out []string
	for _, k := range shopKeys {
		if inspect.PartitionFor(goka.DefaultHasher(), k, totalParts) != 2 {
			out = append(out, k)
		}
	}
	return out
}

// buildDataDir writes a data dir the way a processor would, through tables.NewBuilder, and one
// partition in goka's LevelDB format.
func buildDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := tables.NewBuilder(dir, tables.WithCacheSize(1<<20))
	write := func(table string, part int32, offset int64, kvs map[string]string) {
		st, err := build(table, part)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Open(); err != nil {
			t.Fatal(err)
		}
		for k, v := range kvs {
			if err := st.Set(k, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		if offset >= 0 {
			if err := st.SetOffset(offset); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.MarkRecovered(); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []int32{0, 1, 3} {
		kvs := map[string]string{}
		for _, k := range shopKeys {
			if inspect.PartitionFor(goka.DefaultHasher(), k, totalParts) == p {
				kvs[k] = "v-" + k
			}
		}
		write(shopTable, p, int64(100+p), kvs)
	}
	write(dotTable, 0, -1, map[string]string{"u1": "one", "u2": ""})
	if err := os.MkdirAll(filepath.Join(dir, "not-a-partition"), 0o755); err != nil {
		t.Fatal(err)
	}
	legacy, err := storage.DefaultBuilder(dir)("legacy-table", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := legacy.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTablesListsPartitionsOffsetsCountsAndSizes(t *testing.T) {
	dir := buildDataDir(t)
	src, err := inspect.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := src.Tables(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		table  string
		part   int32
		pebble bool
		offset int64
		keys   int64
	}
	var rows []row
	for _, tb := range got {
		var sum int64
		for _, p := range tb.Partitions {
			rows = append(rows, row{tb.Name, p.Partition, p.Pebble, p.Offset, p.Keys})
			if p.SizeBytes <= 0 {
				t.Errorf("%s.%d: size %d", tb.Name, p.Partition, p.SizeBytes)
			}
			sum += p.SizeBytes
		}
		if tb.SizeBytes() != sum {
			t.Errorf("%s: SizeBytes %d, partitions sum to %d", tb.Name, tb.SizeBytes(), sum)
		}
	}
	count := func(p int32) int64 {
		var n int64
		for _, k := range shopKeys {
			if inspect.PartitionFor(goka.DefaultHasher(), k, totalParts) == p {
				n++
			}
		}
		return n
	}
	want := []row{
		{"legacy-table", 0, false, -1, -1},
		{dotTable, 0, true, -1, 2},
		{shopTable, 0, true, 100, count(0)},
		{shopTable, 1, true, 101, count(1)},
		{shopTable, 3, true, 103, count(3)},
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("Tables =\n%v\nwant\n%v", rows, want)
	}
	if count(0)+count(1)+count(3) != int64(len(localShopKeys())) || count(2) == 0 {
		t.Fatalf("fixture does not spread keys over partitions: %d %d %d %d", count(0), count(1), count(2), count(3))
	}
}

func TestGetByHasherOrAcrossPartitions(t *testing.T) {
	dir := buildDataDir(t)
	ctx := context.Background()
	hashed, err := inspect.OpenDir(dir, inspect.WithPartitionCount(totalParts))
	if err != nil {
		t.Fatal(err)
	}
	across, err := inspect.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer across.Close()
	// Pebble lets one process open a DB once, so the two sources take turns.
	for _, name := range []string{"hashed", "across"} {
		src := map[string]*inspect.DirSource{"hashed": hashed, "across": across}[name]
		for _, k := range shopKeys {
			part := inspect.PartitionFor(goka.DefaultHasher(), k, totalParts)
			rec, found, err := src.Get(ctx, shopTable, k)
			switch {
			case part == 2 && name == "hashed":
				if !errors.Is(err, inspect.ErrPartitionNotLocal) {
					t.Errorf("%s Get(%s) in missing partition: %v, want ErrPartitionNotLocal", name, k, err)
				}
			case part == 2:
				if err != nil || found {
					t.Errorf("%s Get(%s) in missing partition: found %t, %v", name, k, found, err)
				}
			default:
				want := inspect.Record{Table: shopTable, Partition: part, Key: k, Value: []byte("v-" + k)}
				if err != nil || !found || fmt.Sprint(rec) != fmt.Sprint(want) {
					t.Errorf("%s Get(%s) = %v, %t, %v; want %v", name, k, rec, found, err, want)
				}
			}
		}
		if name == "hashed" {
			if err := hashed.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, found, err := across.Get(ctx, shopTable, "nope"); found || err != nil {
		t.Fatalf("Get(missing) = %t, %v", found, err)
	}
	if rec, found, err := across.Get(ctx, dotTable, "u2"); !found || err != nil || rec.Value == nil || len(rec.Value) != 0 {
		t.Fatalf("Get of an empty value = %v, %t, %v; want found with empty non-nil value", rec, found, err)
	}
	if _, _, err := across.Get(ctx, "missing-table", "k"); !errors.Is(err, inspect.ErrNoTable) {
		t.Fatalf("Get on a missing table: %v, want ErrNoTable", err)
	}
	if _, _, err := across.Get(ctx, "legacy-table", "k"); !errors.Is(err, inspect.ErrNotPebble) {
		t.Fatalf("Get on a LevelDB table: %v, want ErrNotPebble", err)
	}
}

func TestScanAndCount(t *testing.T) {
	dir := buildDataDir(t)
	src, err := inspect.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	local := localShopKeys()
	slices.Sort(local)
	filter := func(keep func(string) bool) []string {
		var out []string
		for _, k := range local {
			if keep(k) {
				out = append(out, k)
			}
		}
		return out
	}
	cases := []struct {
		name string
		q    inspect.Query
		want []string
	}{
		{"everything", inspect.Query{}, local},
		{"prefix a", inspect.Query{Prefix: "a"}, filter(func(k string) bool { return k[0] == 'a' })},
		{"prefix li", inspect.Query{Prefix: "li"}, filter(func(k string) bool { return len(k) > 1 && k[:2] == "li" })},
		{"range [b, g)", inspect.Query{Start: "b", End: "g"}, filter(func(k string) bool { return k >= "b" && k < "g" })},
		{"open range from c", inspect.Query{Start: "c"}, filter(func(k string) bool { return k >= "c" })},
		{"range up to cherry", inspect.Query{End: "cherry"}, filter(func(k string) bool { return k < "cherry" })},
		{"limit 3", inspect.Query{Limit: 3}, local[:3]},
		{"prefix with limit", inspect.Query{Prefix: "l", Limit: 1}, filter(func(k string) bool { return k[0] == 'l' })[:1]},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := src.Scan(ctx, shopTable, tc.q, func(r inspect.Record) error {
				if string(r.Value) != "v-"+r.Key || r.Partition != inspect.PartitionFor(goka.DefaultHasher(), r.Key, totalParts) {
					t.Errorf("record %v", r)
				}
				got = append(got, r.Key)
				return nil
			})
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Scan(%+v) = %q, %v; want %q", tc.q, got, err, tc.want)
			}
			n, err := src.Count(ctx, shopTable, tc.q)
			wantN := len(tc.want)
			if tc.q.Limit > 0 { // Count ignores the limit
				q := tc.q
				q.Limit = 0
				var all int
				_ = src.Scan(ctx, shopTable, q, func(inspect.Record) error { all++; return nil })
				wantN = all
			}
			if err != nil || n != int64(wantN) {
				t.Fatalf("Count(%+v) = %d, %v; want %d", tc.q, n, err, wantN)
			}
		})
	}
	if err := src.Scan(ctx, shopTable, inspect.Query{Prefix: "a", Start: "b"}, nil); !errors.Is(err, inspect.ErrBadQuery) {
		t.Fatalf("prefix and range: %v, want ErrBadQuery", err)
	}
	stop := errors.New("stop")
	calls := 0
	if err := src.Scan(ctx, shopTable, inspect.Query{}, func(inspect.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("callback error: %v after %d calls", err, calls)
	}
}

func TestInspectionChangesNothingAndRefusesALiveTable(t *testing.T) {
	dir := buildDataDir(t)
	before := snapshotDir(t, dir)
	src, err := inspect.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Tables(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if after := snapshotDir(t, dir); !slices.Equal(before, after) {
		t.Fatalf("inspection changed the data dir:\nbefore %q\nafter  %q", before, after)
	}

	live, err := tables.NewBuilder(dir)(shopTable, 0) // a running processor holds the DB
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	src, err = inspect.OpenDir(dir, inspect.WithPartitionCount(totalParts))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, _, err := src.Get(context.Background(), shopTable, "banana"); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("Get on a DB held by a running processor: %v, want a lock error", err)
	}
}

// snapshotDir lists every file under dir with its size and modification time. Pebble's LOCK files
// are left out: taking the lock touches them even read-only, and they hold no table data.
func snapshotDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Name() != "LOCK" {
			out = append(out, fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeUsesTheTableCodec(t *testing.T) {
	v, err := inspect.Decode(new(codec.Int64), inspect.Record{Table: "t", Key: "k", Value: []byte("42")})
	if err != nil || v.(int64) != 42 {
		t.Fatalf("Decode = %v, %v", v, err)
	}
	if _, err := inspect.Decode(new(codec.Int64), inspect.Record{Table: "t", Key: "k", Value: []byte("x")}); err == nil {
		t.Fatal("Decode of a bad value succeeded")
	}
}
