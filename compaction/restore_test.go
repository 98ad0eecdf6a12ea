package compaction

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lovoo/goka/codec"
	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/tables"
)

// writeTestSnapshot writes a complete snapshot of table with one partition holding state, consistent
// with changelog offset offset.
func writeTestSnapshot(t *testing.T, lakeDir, table, name string, state map[string][]byte, offset int64) Snapshot {
	t.Helper()
	dir := filepath.Join(TableDir(lakeDir, table), "snapshot="+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pm, err := writePartition(dir, PartitionManifest{Partition: 0, Offset: offset, EndOffset: offset + 1}, state, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Version: 1, Table: table, Schema: schema, Partitions: []PartitionManifest{pm}}
	b, _ := json.Marshal(m)
	if err := writeFileSync(filepath.Join(dir, ManifestName), b); err != nil {
		t.Fatal(err)
	}
	return Snapshot{Dir: dir, Manifest: m}
}

func TestRestoringBuilder(t *testing.T) {
	const table = "t-table"
	lakeDir := t.TempDir()
	state := map[string][]byte{"a": []byte("1"), "b": {}, "c": []byte("333")}
	writeTestSnapshot(t, lakeDir, table, "20240101T000000.000Z", map[string][]byte{"old": []byte("x")}, 3)
	writeTestSnapshot(t, lakeDir, table, "20240201T000000.000Z", state, 41)
	cases := []struct {
		name       string
		hwm        int64
		local      map[string][]byte // the partition's store before the builder runs; nil: none
		wantKeys   int
		wantOffset int64
	}{
		{"snapshot behind the changelog end", 50, nil, 3, 41},
		{"snapshot at the end", 42, nil, 3, 41},
		{"changelog shorter than the snapshot (topic recreated)", 41, nil, 0, -3},
		{"an empty store (a restore interrupted by a crash)", 50, map[string][]byte{}, 3, 41},
		{"local state", 50, map[string][]byte{"mine": []byte("9")}, 1, -3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dataDir := t.TempDir()
			if c.local != nil {
				st, err := tables.Open(tables.PartitionDir(dataDir, table, 0))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range c.local {
					if err := st.Set(k, v); err != nil {
						t.Fatal(err)
					}
				}
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
			}
			b := RestoringBuilder(lakeDir, dataDir, tables.NewBuilder(dataDir),
				WithHighWaterMark(func(context.Context, string, int32) (int64, error) { return c.hwm, nil }))
			st, err := b(table, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			off, err := st.GetOffset(-3)
			if err != nil || off != c.wantOffset {
				t.Errorf("offset %d %v, want %d", off, err, c.wantOffset)
			}
			var got []string
			it, _ := st.Iterator()
			for it.Next() {
				v, _ := it.Value()
				got = append(got, fmt.Sprintf("%s=%s", it.Key(), v))
			}
			it.Release()
			if len(got) != c.wantKeys || (c.wantKeys == 3 && fmt.Sprint(got) != "[a=1 b= c=333]") ||
				(c.wantKeys == 1 && fmt.Sprint(got) != "[mine=9]") {
				t.Errorf("restored %v, want %d keys of the newest snapshot", got, c.wantKeys)
			}
		})
	}
}

func TestRestoreSkipsExistingState(t *testing.T) {
	lakeDir, dataDir := t.TempDir(), t.TempDir()
	s := writeTestSnapshot(t, lakeDir, "t-table", "20240101T000000.000Z", map[string][]byte{"k": []byte("v")}, 7)
	if err := os.MkdirAll(tables.PartitionDir(dataDir, "t-table", 0), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Restore(s, dataDir, nil)
	if err != nil || len(res) != 1 || !res[0].Skipped || res[0].Rows != 0 {
		t.Fatalf("restore over existing state: %+v %v", res, err)
	}
}

func TestWritePartValueJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "part-0.parquet")
	state := map[string][]byte{"b": []byte("two"), "a": []byte(`one "1"`)}
	n, _, err := writePart(path, sortedKeys(state), state, 10, new(codec.String))
	if err != nil || n != 2 {
		t.Fatalf("writePart: %d %v", n, err)
	}
	rows, err := parquet.ReadFile[Row](path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s=%s json=%s", r.Key, r.Value, *r.ValueJSON))
	}
	if want := `[a=one "1" json="one \"1\"" b=two json="two"]`; fmt.Sprint(got) != want {
		t.Errorf("rows %s, want %s", fmt.Sprint(got), want)
	}
}

// TestRestoreFallsBackToParquet: whatever is wrong with a snapshot's sstable, the restored store
// holds exactly the snapshot's rows and offset, read from the Parquet part file instead.
func TestRestoreFallsBackToParquet(t *testing.T) {
	state := map[string][]byte{"a": []byte("1"), "b": {}, "c": []byte("333"), "d": []byte("4")}
	cases := []struct {
		name     string
		spoil    func(t *testing.T, dir string, pm *PartitionManifest)
		fallback bool
	}{
		{"usable sstable", func(*testing.T, string, *PartitionManifest) {}, false},
		{"snapshot from before sstables", func(t *testing.T, dir string, pm *PartitionManifest) {
			if err := os.Remove(filepath.Join(dir, pm.SST)); err != nil {
				t.Fatal(err)
			}
			pm.SST, pm.SSTFormat, pm.SSTBytes = "", "", 0
		}, true},
		{"sstable of another format", func(_ *testing.T, _ string, pm *PartitionManifest) {
			pm.SSTFormat = "tables-keys-v0/Pebblev9"
		}, true},
		{"sstable missing", func(t *testing.T, dir string, pm *PartitionManifest) {
			if err := os.Remove(filepath.Join(dir, pm.SST)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"sstable truncated", func(t *testing.T, dir string, pm *PartitionManifest) {
			if err := os.Truncate(filepath.Join(dir, pm.SST), pm.SSTBytes/2); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"sstable overwritten with garbage of its size", func(t *testing.T, dir string, pm *PartitionManifest) {
			if err := os.WriteFile(filepath.Join(dir, pm.SST), make([]byte, pm.SSTBytes), 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := writeTestSnapshot(t, t.TempDir(), "t-table", "20240101T000000.000Z", state, 41)
			c.spoil(t, s.Dir, &s.Manifest.Partitions[0])
			var logBuf bytes.Buffer
			dataDir := t.TempDir()
			res, err := Restore(s, dataDir, slog.New(slog.NewTextHandler(&logBuf, nil)))
			if err != nil || len(res) != 1 || res[0].Rows != 4 || res[0].Offset != 41 {
				t.Fatalf("restore: %+v %v", res, err)
			}
			if fell := strings.Contains(logBuf.String(), "restoring from the Parquet part file"); fell != c.fallback {
				t.Errorf("fell back to Parquet: %t, want %t; log:\n%s", fell, c.fallback, logBuf.String())
			}
			st, err := tables.Open(tables.PartitionDir(dataDir, "t-table", 0), tables.WithReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var got []string
			it, _ := st.Iterator()
			for it.Next() {
				v, _ := it.Value()
				got = append(got, fmt.Sprintf("%s=%s", it.Key(), v))
			}
			it.Release()
			off, err := st.GetOffset(-1)
			if fmt.Sprint(got) != "[a=1 b= c=333 d=4]" || off != 41 || err != nil {
				t.Errorf("restored %v offset %d (%v), want [a=1 b= c=333 d=4] offset 41", got, off, err)
			}
		})
	}
}
