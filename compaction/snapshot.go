package compaction

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lovoo/goka"
	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/tables"
)

// ErrNoTopic is returned by snapshotTable for a table whose changelog topic does not exist; Compact
// skips such tables.
var ErrNoTopic = errors.New("compaction: no changelog topic")

// ErrBadConfig is returned by Config.Validate.
var ErrBadConfig = errors.New("compaction: bad config")

// Row is one table entry in a part file. ValueJSON is the value decoded with the table's codec and
// encoded as JSON, for SQL (DuckDB's json functions); restore reads Value only.
type Row struct {
	Key       string  `parquet:"key,zstd"`
	Value     []byte  `parquet:"value,zstd"`
	ValueJSON *string `parquet:"value_json,optional,zstd"`
}

// Config configures a compaction run (Compact). One compactor at a time may write to a lake.
type Config struct {
	Brokers []string
	LakeDir string
	// Tables are the table topics to snapshot, with namespace ("shopease-ratings-table").
	Tables []string
	// Codecs, by table topic, fill the value_json column; a table without one leaves it NULL. A
	// value its codec cannot decode fails the run (the table would be corrupt).
	Codecs map[string]goka.Codec
	// Keep is how many snapshots per table survive a run (default 3, at least 1).
	Keep int
	// RowGroupRows is the most rows in one Parquet row group (default 65,536).
	RowGroupRows int
	// Progress, when set, is called about once a second per partition and at its end.
	Progress func(Progress)
	Logger   *slog.Logger
	now      func() time.Time
}

// Progress reports one partition's snapshot.
type Progress struct {
	Table     string
	Partition int32
	Read      int64 // changelog records read so far
	ToRead    int64 // records between the base snapshot's offset and the end offset (an upper bound)
	Done      bool
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("%w: no brokers", ErrBadConfig)
	case c.LakeDir == "":
		return fmt.Errorf("%w: no lake dir", ErrBadConfig)
	case len(c.Tables) == 0:
		return fmt.Errorf("%w: no tables", ErrBadConfig)
	case c.Keep < 0 || c.RowGroupRows < 0:
		return fmt.Errorf("%w: negative keep or row group rows", ErrBadConfig)
	}
	if c.Keep == 0 {
		c.Keep = 3
	}
	if c.RowGroupRows == 0 {
		c.RowGroupRows = 65_536
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return nil
}

// Compact snapshots every configured table and prunes old snapshots. It returns the new snapshots.
func Compact(ctx context.Context, cfg Config) ([]Snapshot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("compaction: kafka client: %w", err)
	}
	defer cl.Close()
	var out []Snapshot
	for _, table := range cfg.Tables {
		s, err := snapshotTable(ctx, cfg, kadm.NewClient(cl), table)
		if errors.Is(err, ErrNoTopic) {
			// A table whose processor never ran (its changelog does not exist yet) has nothing to
			// snapshot; the others still get theirs.
			cfg.Logger.Info("compaction: no changelog topic; skipped", "table", table)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("compaction: snapshot %s: %w", table, err)
		}
		out = append(out, s)
		if err := prune(cfg.LakeDir, table, cfg.Keep); err != nil {
			return out, err
		}
	}
	return out, nil
}

func snapshotTable(ctx context.Context, cfg Config, adm *kadm.Client, table string) (Snapshot, error) {
	created := cfg.now().UTC()
	ends, err := adm.ListEndOffsets(ctx, table)
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) || (err == nil && len(ends[table]) == 0) {
		return Snapshot{}, fmt.Errorf("%w: %s", ErrNoTopic, table)
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("end offsets: %w", err)
	}
	var base *Snapshot
	if b, err := Newest(cfg.LakeDir, table); err == nil {
		base = &b
	} else if !errors.Is(err, ErrNoSnapshot) {
		return Snapshot{}, err
	}
	root := TableDir(cfg.LakeDir, table)
	if err := removeLeftovers(root); err != nil {
		return Snapshot{}, err
	}
	name := "snapshot=" + created.Format(snapshotTimeFormat)
	tmp := filepath.Join(root, "."+name+".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return Snapshot{}, fmt.Errorf("create %s: %w", tmp, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; removes a failed run's leftovers
	m := &Manifest{Version: 1, Table: table, Created: created, Schema: schema}
	if base != nil {
		m.Base = filepath.Base(base.Dir)
	}
	var parts []int32
	ends.Each(func(o kadm.ListedOffset) { parts = append(parts, o.Partition) })
	slices.Sort(parts)
	for _, p := range parts {
		end, _ := ends.Lookup(table, p)
		pm, err := snapshotPartition(ctx, cfg, table, p, end.Offset, base, tmp)
		if err != nil {
			return Snapshot{}, fmt.Errorf("partition %d: %w", p, err)
		}
		m.Partitions = append(m.Partitions, pm)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Snapshot{}, fmt.Errorf("encode manifest: %w", err)
	}
	if err := writeFileSync(filepath.Join(tmp, ManifestName), b); err != nil {
		return Snapshot{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Snapshot{}, err
	}
	final := filepath.Join(root, name)
	if err := os.Rename(tmp, final); err != nil {
		return Snapshot{}, fmt.Errorf("publish %s: %w", final, err)
	}
	if err := syncDir(root); err != nil {
		return Snapshot{}, err
	}
	var rows int64
	for _, pm := range m.Partitions {
		rows += pm.Rows
	}
	cfg.Logger.Info("compaction: snapshot", "table", table, "dir", final, "partitions", len(parts), "rows", rows)
	return Snapshot{Dir: final, Manifest: m}, nil
}

// snapshotPartition builds one part file: the base snapshot's part (if any) plus the changelog
// records from its offset+1 up to end.
func snapshotPartition(ctx context.Context, cfg Config, table string, p int32, end int64, base *Snapshot, dir string) (PartitionManifest, error) {
	state := map[string][]byte{}
	from, last := int64(0), int64(-1)
	if base != nil {
		if bp, ok := base.Manifest.Partition(p); ok {
			rows, err := readPart(filepath.Join(base.Dir, bp.File))
			if err != nil {
				return PartitionManifest{}, err
			}
			for _, r := range rows {
				state[r.Key] = r.Value
			}
			from, last = bp.Offset+1, bp.Offset
		}
	}
	read, err := readChangelog(ctx, cfg, nil, table, p, from, end, func(off int64, key string, value []byte) {
		if value == nil {
			delete(state, key)
		} else {
			state[key] = value
		}
		last = off
	})
	if err != nil {
		return PartitionManifest{}, err
	}
	cfg.Logger.Debug("compaction: partition read", "table", table, "partition", p, "records", read)
	return writePartition(dir, PartitionManifest{Partition: p, Offset: last, EndOffset: end}, state, cfg.RowGroupRows, cfg.Codecs[table])
}

// writePartition writes partition pm.Partition's state into dir as the Parquet part file and its
// sstable twin, and returns pm with the files, row count and sizes filled in. The leading "_"
// hides the sstable from Spark and pyarrow, which read a snapshot dir as a Parquet dataset.
func writePartition(dir string, pm PartitionManifest, state map[string][]byte, rowGroupRows int, c goka.Codec) (PartitionManifest, error) {
	pm.File = fmt.Sprintf("part-%d.parquet", pm.Partition)
	pm.SST, pm.SSTFormat = fmt.Sprintf("_part-%d.sst", pm.Partition), tables.SSTFormat
	keys := sortedKeys(state)
	var err error
	if pm.Rows, pm.Bytes, err = writePart(filepath.Join(dir, pm.File), keys, state, rowGroupRows, c); err != nil {
		return PartitionManifest{}, err
	}
	if pm.SSTBytes, err = writePartSST(filepath.Join(dir, pm.SST), keys, state); err != nil {
		return PartitionManifest{}, err
	}
	return pm, nil
}

// changelogClient returns a Kafka client for readChangelog.
func changelogClient(brokers []string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		// A base offset below the log start (segments deleted) starts at the oldest record instead:
		// the records before it are superseded by later ones in a compacted topic.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

// readChangelog calls apply for every record of table/p in [from, end), in offset order, read
// with cl (from changelogClient, consuming nothing else; nil: a client of its own).
func readChangelog(ctx context.Context, cfg Config, cl *kgo.Client, table string, p int32, from, end int64, apply func(int64, string, []byte)) (int64, error) {
	prog := Progress{Table: table, Partition: p, ToRead: max(end-from, 0)}
	report := func() {
		if cfg.Progress != nil {
			cfg.Progress(prog)
		}
	}
	if from >= end {
		prog.Done = true
		report()
		return 0, nil
	}
	if cl == nil {
		var err error
		if cl, err = changelogClient(cfg.Brokers); err != nil {
			return 0, err
		}
		defer cl.Close()
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{table: {p: kgo.NewOffset().At(from)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{table: {p}})
	next, lastReport, lastProgress := from, time.Now(), time.Now()
	for next < end {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if err := ctx.Err(); err != nil {
			return prog.Read, err
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = err
			}
		})
		if ferr != nil {
			return prog.Read, fmt.Errorf("fetch: %w", ferr)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end {
				return
			}
			apply(r.Offset, string(r.Key), r.Value)
			next = r.Offset + 1
			prog.Read++
			lastProgress = time.Now()
		})
		if fetches.NumRecords() == 0 {
			// The records at the end may have been compacted away (a key's older value); the
			// partition's high-water mark then is reached without a record at end-1.
			if hw := highWater(fetches, table, p); hw >= end && next >= hw-1 {
				break
			}
			if time.Since(lastProgress) > 30*time.Second {
				return prog.Read, fmt.Errorf("no records after offset %d for 30 s, end %d", next, end)
			}
		}
		if time.Since(lastReport) >= time.Second {
			report()
			lastReport = time.Now()
		}
	}
	prog.Done = true
	report()
	return prog.Read, nil
}

func highWater(f kgo.Fetches, table string, p int32) int64 {
	hw := int64(-1)
	f.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.Topic == table && fp.Partition == p {
			hw = fp.HighWatermark
		}
	})
	return hw
}

func readPart(path string) ([]Row, error) {
	rows, err := parquet.ReadFile[Row](path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrBadManifest, path, err)
	}
	return rows, nil
}

func sortedKeys(state map[string][]byte) []string {
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// writePart writes state in the order of keys (sorted) to path (fsynced) and returns the row count
// and file size.
func writePart(path string, keys []string, state map[string][]byte, rowGroupRows int, c goka.Codec) (int64, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, fmt.Errorf("create %s: %w", path, err)
	}
	w := parquet.NewGenericWriter[Row](f, parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(int64(rowGroupRows)), parquet.CreatedBy("shopease", "compaction", "1"))
	buf := make([]Row, 0, 4096)
	for i, k := range keys {
		row := Row{Key: k, Value: state[k]}
		if c != nil {
			js, err := valueJSON(c, row.Value)
			if err != nil {
				f.Close()
				return 0, 0, fmt.Errorf("key %q: %w", k, err)
			}
			row.ValueJSON = &js
		}
		buf = append(buf, row)
		if len(buf) == cap(buf) || i == len(keys)-1 {
			if _, err := w.Write(buf); err != nil {
				f.Close()
				return 0, 0, fmt.Errorf("write %s: %w", path, err)
			}
			buf = buf[:0]
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return 0, 0, fmt.Errorf("finish %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, 0, fmt.Errorf("sync %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, 0, fmt.Errorf("close %s: %w", path, err)
	}
	return int64(len(keys)), fi.Size(), nil
}

// removeLeftovers removes the temp dirs of runs that died (SIGKILL, power loss) before publishing.
// One compactor runs per lake at a time (documented in Config), so no temp dir is in use here.
func removeLeftovers(root string) error {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list %s: %w", root, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".snapshot=") && strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return fmt.Errorf("remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

func valueJSON(c goka.Codec, v []byte) (string, error) {
	d, err := c.Decode(v)
	if err != nil {
		return "", fmt.Errorf("decode value: %w", err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("value as JSON: %w", err)
	}
	return string(b), nil
}

// prune removes all but the newest keep snapshots of table, oldest first.
func prune(lakeDir, table string, keep int) error {
	snaps, err := Snapshots(lakeDir, table)
	if err != nil {
		return err
	}
	for i := 0; i < len(snaps)-keep; i++ {
		if err := os.RemoveAll(snaps[i].Dir); err != nil {
			return fmt.Errorf("compaction: prune %s: %w", snaps[i].Dir, err)
		}
	}
	return nil
}
