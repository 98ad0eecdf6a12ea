package compaction

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrNoSnapshot is returned when a table has no complete snapshot in the lake.
var ErrNoSnapshot = errors.New("compaction: no snapshot")

// ErrBadManifest is returned when a manifest cannot be read or does not describe its files.
var ErrBadManifest = errors.New("compaction: bad manifest")

// ManifestName is the file name of a snapshot's manifest.
const ManifestName = "_manifest.json"

// snapshotTimeFormat sorts lexically in time order and needs no characters that file systems or
// Hive partition parsers object to.
const snapshotTimeFormat = "20060102T150405.000Z"

// Manifest describes one snapshot of one table.
type Manifest struct {
	Version int    `json:"version"` // 1
	Table   string `json:"table"`   // the table topic, with namespace
	// Created is when the snapshot run started (UTC).
	Created time.Time `json:"created"`
	// Base is the snapshot this one was built from ("" when built from the changelog alone).
	Base       string              `json:"base,omitempty"`
	Partitions []PartitionManifest `json:"partitions"`
	Schema     []Column            `json:"schema"`
}

// PartitionManifest describes one partition's part file.
type PartitionManifest struct {
	Partition int32  `json:"partition"`
	File      string `json:"file"`
	// Offset is the last changelog offset applied (-1: none; the partition was empty).
	Offset int64 `json:"offset"`
	// EndOffset is the high-water mark the run read up to (Offset+1 unless the last records were
	// compacted away).
	EndOffset int64 `json:"end_offset"`
	Rows      int64 `json:"rows"`
	Bytes     int64 `json:"bytes"`
	// SST is the same rows as a Pebble sstable in package tables' key encoding, which restore
	// ingests as is (Parquet stays the portable format; restore falls back to it when the sstable
	// is missing, of another SSTFormat, or refused). "" in snapshots written before it existed.
	SST       string `json:"sst,omitempty"`
	SSTFormat string `json:"sst_format,omitempty"` // tables.SSTFormat of the writer
	SSTBytes  int64  `json:"sst_bytes,omitempty"`
}

// Column is one column of the part files.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

var schema = []Column{
	{"key", "STRING", "table key"},
	{"value", "BINARY", "table value as the table codec encoded it"},
	{"value_json", "STRING (JSON), nullable", "the value decoded with the table codec, as JSON; NULL when the run had no codec for the table"},
}

// Snapshot is a complete snapshot found in the lake.
type Snapshot struct {
	Dir      string
	Manifest *Manifest
}

// TableDir is the lake directory of a table's snapshots.
func TableDir(lakeDir, table string) string { return filepath.Join(lakeDir, "tables", table) }

// Snapshots lists the complete snapshots of table, oldest first. Directories without a readable
// manifest are not complete and are left out.
func Snapshots(lakeDir, table string) ([]Snapshot, error) {
	root := TableDir(lakeDir, table)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compaction: list %s: %w", root, err)
	}
	var out []Snapshot
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "snapshot=") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		m, err := ReadManifest(dir)
		if err != nil {
			continue
		}
		out = append(out, Snapshot{Dir: dir, Manifest: m})
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return strings.Compare(a.Dir, b.Dir) })
	return out, nil
}

// Newest returns the newest complete snapshot of table, or ErrNoSnapshot.
func Newest(lakeDir, table string) (Snapshot, error) {
	snaps, err := Snapshots(lakeDir, table)
	if err != nil {
		return Snapshot{}, err
	}
	if len(snaps) == 0 {
		return Snapshot{}, fmt.Errorf("%w of %s in %s", ErrNoSnapshot, table, lakeDir)
	}
	return snaps[len(snaps)-1], nil
}

// ReadManifest reads dir/_manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadManifest, dir, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%w: %s: version %d", ErrBadManifest, dir, m.Version)
	}
	return m, nil
}

// Partition returns the manifest's entry for partition p.
func (m *Manifest) Partition(p int32) (PartitionManifest, bool) {
	for _, pm := range m.Partitions {
		if pm.Partition == p {
			return pm, true
		}
	}
	return PartitionManifest{}, false
}

// syncDir fsyncs a directory so that entries created or renamed in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("compaction: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("compaction: sync dir %s: %w", dir, err)
	}
	return nil
}

// writeFileSync writes data to path and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("compaction: create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("compaction: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("compaction: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("compaction: close %s: %w", path, err)
	}
	return nil
}
