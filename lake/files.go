package lake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/processors/fence"
)

// ErrBadLake is returned when the lake holds a file whose name breaks the layout's invariants (for
// example two batches of one partition with overlapping offset ranges).
var ErrBadLake = errors.New("lake: inconsistent lake")

// fileName is the final name of a batch file.
func fileName(partition int32, first, last int64) string {
	return fmt.Sprintf("part-%d-%d-%d.parquet", partition, first, last)
}

// tempName is the hidden name a batch file is written under; readers glob *.parquet and skip
// names starting with a dot, so they never see it.
func tempName(partition int32, first int64) string {
	return fmt.Sprintf(".part-%d-%d.parquet.tmp", partition, first)
}

// DateDir is the Hive partition directory of a UTC date.
func DateDir(lakeDir, dataset string, day time.Time) string {
	return filepath.Join(lakeDir, "events", dataset, "date="+day.UTC().Format(time.DateOnly))
}

var partRE = regexp.MustCompile(`^part-(\d+)-(\d+)-(\d+)\.parquet$`)

// fenceMetaKey is the Parquet key-value metadata entry holding the fence (JSON fence.Vector) as it
// was when the file's batch started.
const fenceMetaKey = "shopease.fence.start"

// Batch is the offset range of one written batch of a partition, the dates it has files for, and
// the fence at its start (read from one of its files).
type Batch struct {
	First, Last int64
	Dates       map[string]bool // "2024-03-01"
	Fence       fence.Vector
	file        string // one of its files
}

// Resume is what a dataset's files say about each partition: its newest batch.
type Resume map[int32]*Batch

// ScanDataset lists <lake>/events/<dataset>/date=*/part-*.parquet and returns, per partition, the
// newest batch (highest last offset) with the dates it has files for. Leftover temp files of an
// interrupted write are removed. Batches of one partition must not overlap: the writer never
// produces that, so finding it means someone copied files in, and it is an error.
func ScanDataset(lakeDir, dataset string) (Resume, error) {
	root := filepath.Join(lakeDir, "events", dataset)
	days, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return Resume{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lake: list %s: %w", root, err)
	}
	type span struct{ first, last int64 }
	type spanKey struct {
		p int32
		s span
	}
	spans := map[int32]map[span]map[string]bool{}
	fileOf := map[spanKey]string{}
	for _, d := range days {
		date, ok := strings.CutPrefix(d.Name(), "date=")
		if !d.IsDir() || !ok {
			continue
		}
		dir := filepath.Join(root, d.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("lake: list %s: %w", dir, err)
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".part-") && strings.HasSuffix(f.Name(), ".tmp") {
				if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
					return nil, fmt.Errorf("lake: remove leftover %s: %w", f.Name(), err)
				}
				continue
			}
			m := partRE.FindStringSubmatch(f.Name())
			if m == nil {
				continue
			}
			p, _ := strconv.ParseInt(m[1], 10, 32)
			first, _ := strconv.ParseInt(m[2], 10, 64)
			last, _ := strconv.ParseInt(m[3], 10, 64)
			if first > last {
				return nil, fmt.Errorf("%w: %s/%s: first offset after last", ErrBadLake, d.Name(), f.Name())
			}
			bySpan := spans[int32(p)]
			if bySpan == nil {
				bySpan = map[span]map[string]bool{}
				spans[int32(p)] = bySpan
			}
			s := span{first, last}
			if bySpan[s] == nil {
				bySpan[s] = map[string]bool{}
				fileOf[spanKey{int32(p), s}] = filepath.Join(dir, f.Name())
			}
			bySpan[s][date] = true
		}
	}
	out := Resume{}
	for p, bySpan := range spans {
		var newest *Batch
		for s, dates := range bySpan {
			if newest == nil || s.last > newest.Last {
				newest = &Batch{First: s.first, Last: s.last, Dates: dates, file: fileOf[spanKey{p, s}]}
			}
		}
		for s := range bySpan {
			if s.last != newest.Last && s.last >= newest.First {
				return nil, fmt.Errorf("%w: %s partition %d: batches %d-%d and %d-%d overlap",
					ErrBadLake, dataset, p, s.first, s.last, newest.First, newest.Last)
			}
		}
		if newest.Fence, err = readFence(newest.file); err != nil {
			return nil, err
		}
		out[p] = newest
	}
	return out, nil
}

// readFence reads the fence a batch file was written with (none in files without the entry).
func readFence(path string) (fence.Vector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lake: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("lake: stat %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadLake, path, err)
	}
	meta, ok := pf.Lookup(fenceMetaKey)
	if !ok {
		return nil, nil
	}
	var v fence.Vector
	if err := json.Unmarshal([]byte(meta), &v); err != nil {
		return nil, fmt.Errorf("%w: %s: fence %q: %w", ErrBadLake, path, meta, err)
	}
	return v, nil
}

// publish makes a finished temp file visible under its final name: fsync the file, rename, fsync
// the directory (so the rename survives a power loss).
func publish(f *os.File, final string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("lake: sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lake: close %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return fmt.Errorf("lake: publish %s: %w", final, err)
	}
	return syncDir(filepath.Dir(final))
}

// syncDir fsyncs a directory so that entries created or renamed in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("lake: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("lake: sync dir %s: %w", dir, err)
	}
	return nil
}

// mkdirAll creates dir and fsyncs the parents of every directory it had to create.
func mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirAll(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("lake: mkdir %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}
