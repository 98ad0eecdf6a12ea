package inspect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/tables/inspect"
)

// writeSnapshot writes a snapshot dir by hand in compaction's layout: parts maps partition → rows.
func writeSnapshot(t *testing.T, lakeDir, table, name string, parts map[int32][]compaction.Row, manifest bool) {
	t.Helper()
	dir := filepath.Join(compaction.TableDir(lakeDir, table), "snapshot="+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := compaction.Manifest{Version: 1, Table: table}
	for p, rows := range parts {
		file := fmt.Sprintf("part-%d.parquet", p)
		if err := parquet.WriteFile(filepath.Join(dir, file), rows); err != nil {
			t.Fatal(err)
		}
		m.Partitions = append(m.Partitions, compaction.PartitionManifest{Partition: p, File: file, Offset: 9, Rows: int64(len(rows))})
	}
	if !manifest {
		return
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, compaction.ManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotSource(t *testing.T) {
	lakeDir := t.TempDir()
	const table = "ns.shopease-ratings-table"
	writeSnapshot(t, lakeDir, table, "20240101T000000.000Z", map[int32][]compaction.Row{0: {{Key: "old", Value: []byte("x")}}}, true)
	writeSnapshot(t, lakeDir, table, "20240301T000000.000Z", map[int32][]compaction.Row{
		0: {{Key: "P0001", Value: []byte("a")}, {Key: "P0003", Value: []byte("c")}, {Key: "Q1", Value: []byte{}}},
		1: {{Key: "P0002", Value: []byte("b")}, {Key: "P0010", Value: []byte("j")}},
	}, true)
	// An incomplete snapshot (no manifest yet) is never read, however new.
	writeSnapshot(t, lakeDir, table, "20250101T000000.000Z", map[int32][]compaction.Row{0: {{Key: "new", Value: []byte("n")}}}, false)

	src := inspect.OpenSnapshots(lakeDir)
	defer src.Close()
	ctx := context.Background()
	keys := func(q inspect.Query) []string {
		var out []string
		if err := src.Scan(ctx, table, q, func(r inspect.Record) error {
			out = append(out, fmt.Sprintf("%s/%d=%s", r.Key, r.Partition, r.Value))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name string
		q    inspect.Query
		want []string
	}{
		{"all", inspect.Query{}, []string{"P0001/0=a", "P0002/1=b", "P0003/0=c", "P0010/1=j", "Q1/0="}},
		{"prefix", inspect.Query{Prefix: "P000"}, []string{"P0001/0=a", "P0002/1=b", "P0003/0=c"}},
		{"range", inspect.Query{Start: "P0002", End: "P0010"}, []string{"P0002/1=b", "P0003/0=c"}},
		{"from", inspect.Query{Start: "P0005"}, []string{"P0010/1=j", "Q1/0="}},
		{"limit", inspect.Query{Limit: 2}, []string{"P0001/0=a", "P0002/1=b"}},
		{"none", inspect.Query{Prefix: "Z"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := keys(c.q); !slices.Equal(got, c.want) {
				t.Errorf("scan %+v = %v, want %v", c.q, got, c.want)
			}
			n, err := src.Count(ctx, table, inspect.Query{Prefix: c.q.Prefix, Start: c.q.Start, End: c.q.End})
			if c.q.Limit == 0 && (err != nil || n != int64(len(c.want))) {
				t.Errorf("count %+v = %d, %v; want %d", c.q, n, err, len(c.want))
			}
		})
	}
	rec, found, err := src.Get(ctx, table, "P0010")
	if err != nil || !found || string(rec.Value) != "j" || rec.Partition != 1 {
		t.Errorf("get P0010 = %+v %v %v", rec, found, err)
	}
	if _, found, err := src.Get(ctx, table, "old"); found || err != nil {
		t.Errorf("get old = %v %v, want not found in the newest snapshot", found, err)
	}
	if _, _, err := src.Get(ctx, "other-table", "k"); !errors.Is(err, inspect.ErrNoTable) {
		t.Errorf("missing table: %v, want inspect.ErrNoTable", err)
	}

	pinned := inspect.OpenSnapshots(lakeDir, inspect.WithSnapshot("snapshot=20240101T000000.000Z"))
	if rec, found, err := pinned.Get(ctx, table, "old"); !found || err != nil || string(rec.Value) != "x" {
		t.Errorf("pinned get old = %+v %v %v", rec, found, err)
	}
}
