package tables

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// writeSST writes rows ("key=value", sorted) as an sstable at path on fs.
func writeSST(t *testing.T, fs vfs.FS, path string, rows [][2]string) {
	t.Helper()
	w, err := NewSSTWriter(fs, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Set([]byte(r[0]), []byte(r[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// dump returns a store's rows as "k=v" and its offset (-1: none).
func dump(t *testing.T, st *Storage) ([]string, int64) {
	t.Helper()
	it, err := st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Release()
	var rows []string
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("%s=%s", it.Key(), v))
	}
	off, err := st.GetOffset(-1)
	if err != nil {
		t.Fatal(err)
	}
	return rows, off
}

func TestIngest(t *testing.T) {
	cases := []struct {
		name     string
		ssts     [][][2]string // one sstable per entry
		before   func(*Storage) error
		wantErr  error
		wantRows string
		wantOff  int64
	}{
		{name: "one sstable", ssts: [][][2]string{{{"a", "1"}, {"b", ""}, {"c", "333"}}},
			wantRows: "[a=1 b= c=333]", wantOff: 41},
		{name: "two disjoint sstables", ssts: [][][2]string{{{"a", "1"}}, {{"x", "2"}, {"y", "3"}}},
			wantRows: "[a=1 x=2 y=3]", wantOff: 41},
		{name: "offset only (empty snapshot partition)", wantRows: "[]", wantOff: 41},
		{name: "store holds a key", ssts: [][][2]string{{{"a", "1"}}},
			before:  func(s *Storage) error { return s.Set("old", []byte("x")) },
			wantErr: ErrNotEmpty, wantRows: "[old=x]", wantOff: -1},
		{name: "store holds an offset", ssts: [][][2]string{{{"a", "1"}}},
			before:  func(s *Storage) error { return s.SetOffset(7) },
			wantErr: ErrNotEmpty, wantRows: "[]", wantOff: 7},
		{name: "goka's recovery has begun", ssts: [][][2]string{{{"a", "1"}}},
			before:  func(s *Storage) error { return s.Open() },
			wantErr: ErrNotEmpty, wantRows: "[]", wantOff: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := vfs.NewMem()
			st, err := Open("db", WithFS(fs))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var paths []string
			for i, rows := range c.ssts {
				p := fmt.Sprintf("snap-%d.sst", i)
				writeSST(t, fs, p, rows)
				paths = append(paths, p)
			}
			if c.before != nil {
				if err := c.before(st); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Ingest(paths, 41); !errors.Is(err, c.wantErr) {
				t.Fatalf("Ingest: %v, want %v", err, c.wantErr)
			}
			rows, off := dump(t, st)
			if fmt.Sprint(rows) != c.wantRows || off != c.wantOff {
				t.Errorf("store %v offset %d, want %s offset %d", rows, off, c.wantRows, c.wantOff)
			}
			for _, p := range paths {
				if _, err := fs.Stat(p); err != nil {
					t.Errorf("ingested file %s is gone: %v", p, err)
				}
			}
			if left, _ := fs.List("/"); len(left) != 1+len(paths) {
				t.Errorf("files beside the store: %v, want db and the %d sstables", left, len(paths))
			}
		})
	}
}

func TestSSTWriterRejectsUnsortedKeys(t *testing.T) {
	for _, keys := range [][]string{{"b", "a"}, {"a", "a"}, {"ab", "a"}} {
		w, err := NewSSTWriter(vfs.NewMem(), "x.sst")
		if err != nil {
			t.Fatal(err)
		}
		err = w.Set([]byte(keys[0]), nil)
		if err == nil {
			err = w.Set([]byte(keys[1]), nil)
		}
		w.Abort()
		if !errors.Is(err, ErrUnsorted) || w.Rows() != 1 {
			t.Errorf("keys %q: %v after %d rows, want ErrUnsorted after 1", keys, err, w.Rows())
		}
	}
}

// TestIngestIsAtomicUnderCrashes takes a crash image of the file system before and after every
// file operation of an ingestion (and right after it returns): each must reopen as an empty store
// without offset, or as the whole sstable with the offset — never rows without their offset or a
// part of the rows.
func TestIngestIsAtomicUnderCrashes(t *testing.T) {
	const rows, offset = 5000, 4999
	var want [][2]string
	for i := range rows {
		want = append(want, [2]string{fmt.Sprintf("key-%05d", i), fmt.Sprint(i)})
	}
	images, complete := 0, 0
	for seed := range uint64(4) {
		mem := vfs.NewCrashableMem()
		writeSST(t, mem, "snap.sst", want)
		rng := rand.New(rand.NewPCG(seed, 5))
		var imgs []*vfs.MemFS
		fs := &hookFS{FS: mem}
		st, err := Open("db", WithFS(fs), WithCacheSize(0))
		if err != nil {
			t.Fatal(err)
		}
		fs.hook = func() {
			cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 1))}
			imgs = append(imgs, mem.CrashClone(cfg))
		}
		err = st.Ingest([]string{"snap.sst"}, offset)
		fs.hook()
		fs.hook = nil
		if err != nil {
			t.Fatal(err)
		}
		after := imgs[len(imgs)-1]
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		for i, img := range imgs {
			re, err := Open("db", WithFS(img), WithCacheSize(0))
			if err != nil {
				t.Fatalf("seed %d image %d: reopen: %v", seed, i, err)
			}
			got, off := dump(t, re)
			re.Close()
			switch {
			case len(got) == 0 && off == -1 && img != after:
			case len(got) == rows && off == offset && got[rows-1] == "key-04999=4999":
				complete++
			default:
				t.Fatalf("seed %d image %d of %d: %d rows and offset %d; want none and -1, or %d and %d",
					seed, i, len(imgs), len(got), off, rows, offset)
			}
			images++
		}
	}
	t.Logf("%d crash images, %d of them complete", images, complete)
}

// hookFS calls hook (when set) before every file system operation and before and after every
// write and sync of a file it opened.
type hookFS struct {
	vfs.FS
	hook func()
}

type hookFile struct {
	vfs.File
	fs *hookFS
}

func (f *hookFS) call() {
	if f.hook != nil {
		f.hook()
	}
}

func (f *hookFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return hookFile{file, f}, nil
}

func (f *hookFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f.call()
	return f.wrap(f.FS.Create(name, c))
}

func (f *hookFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return f.wrap(f.FS.Open(name, opts...))
}

func (f *hookFS) OpenDir(name string) (vfs.File, error) { return f.wrap(f.FS.OpenDir(name)) }

func (f *hookFS) Link(oldname, newname string) error {
	f.call()
	return f.FS.Link(oldname, newname)
}

func (f *hookFS) Rename(oldname, newname string) error {
	f.call()
	return f.FS.Rename(oldname, newname)
}

func (f *hookFS) Remove(name string) error {
	f.call()
	return f.FS.Remove(name)
}

func (f hookFile) Write(p []byte) (int, error) {
	f.fs.call()
	defer f.fs.call()
	return f.File.Write(p)
}

func (f hookFile) Sync() error {
	f.fs.call()
	defer f.fs.call()
	return f.File.Sync()
}
