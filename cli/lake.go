package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lovoo/goka"
	"golang.org/x/term"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/processors"
)

// defaultLakeDir is the lake's default root, beside the local state.
const defaultLakeDir = "data/lake"

func lakeCmd() *command {
	var (
		cf      clusterFlags
		lakeDir string
		once    bool
		flush   time.Duration
	)
	return &command{
		name:    "lake",
		summary: "archive the clean topics as Parquet in the lake (follows the topics; --once to catch up and stop)",
		help: `Writes every record of the clean topics (transactions, activity, inventory, feedback) to
<lake>/events/<dataset>/date=YYYY-MM-DD/part-<partition>-<first>-<last>.parquet, by UTC event date,
zstd-compressed. File names carry the offsets they hold: a restarted writer resumes after the last
file and never writes a row twice. Files appear only when complete. Money columns are
DECIMAL(18,3); times are UTC timestamps; user columns hold pseudonyms only.

Example:
  shopease lake --brokers 127.0.0.1:9092 --lake-dir ./data/lake --once
  duckdb -c "select count(*) from read_parquet('data/lake/events/transactions/*/*.parquet', hive_partitioning=true)"`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			fs.StringVar(&lakeDir, "lake-dir", defaultLakeDir, "root of the Parquet lake")
			fs.BoolVar(&once, "once", false, "stop once every record present at start is archived")
			fs.DurationVar(&flush, "flush-interval", time.Minute, "longest time a batch stays open (live data shows up within it)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("lake takes no arguments")
			}
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			sum, err := lake.Run(ctx, lake.Config{Brokers: cfg.Brokers, Namespace: cfg.Namespace, LakeDir: lakeDir,
				Once: once, FlushInterval: flush, Logger: e.log})
			for _, d := range lake.Datasets {
				if st, ok := sum[d.Name]; ok {
					fmt.Fprintf(e.stdout, "%-13s %9d rows %6d files\n", d.Name, st.Rows, st.Files)
				}
			}
			return err
		},
	}
}

func compactCmd() *command {
	var (
		cf      clusterFlags
		lakeDir string
		keep    int
	)
	return &command{
		name:    "compact",
		summary: "snapshot every group table to Parquet in the lake (one-shot), keeping the newest N",
		help: `Builds, for every table (or the tables named), a snapshot consistent per partition with the
changelog up to its end offset at start: the previous snapshot plus the changelog after it. Written
to <lake>/tables/<table topic>/snapshot=<UTC time>/part-<partition>.parquet with _manifest.json
(per partition: changelog offset, rows, bytes; the schema). It reads Kafka only and never touches
a running processor. A processor that starts without local state restores from the newest one.

Example:
  shopease compact --brokers 127.0.0.1:9092 --lake-dir ./data/lake --keep 3
  shopease compact shopease-ratings`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			fs.StringVar(&lakeDir, "lake-dir", defaultLakeDir, "root of the Parquet lake")
			fs.IntVar(&keep, "keep", 3, "snapshots to keep per table")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			var topics []string
			codecs := map[string]goka.Codec{}
			for _, t := range processors.Tables {
				codecs[string(cfg.Namespace.Table(t.Group))] = t.Codec
				if len(args) == 0 {
					topics = append(topics, string(cfg.Namespace.Table(t.Group)))
				}
			}
			for _, a := range args {
				t, ok := processors.FindTable(cfg.Namespace, a)
				if !ok {
					return usagef("unknown table %q (see 'shopease inspect tables')", a)
				}
				topics = append(topics, string(cfg.Namespace.Table(t.Group)))
			}
			// On a terminal one line per partition is redrawn as it advances; otherwise (logs, pipes)
			// a line is printed when a partition is done.
			f, ok := e.stderr.(*os.File)
			tty := ok && term.IsTerminal(int(f.Fd()))
			progress := func(p compaction.Progress) {
				pct := 100.0
				if p.ToRead > 0 {
					pct = 100 * float64(p.Read) / float64(p.ToRead)
				}
				line := fmt.Sprintf("%s/%d: %d of ≤%d changelog records (%.0f%%)", p.Table, p.Partition, p.Read, p.ToRead, pct)
				switch {
				case tty && p.Done:
					fmt.Fprintf(e.stderr, "\r%s done\033[K\n", line)
				case tty:
					fmt.Fprintf(e.stderr, "\r%s\033[K", line)
				case p.Done:
					fmt.Fprintln(e.stderr, line, "done")
				}
			}
			snaps, err := compaction.Compact(ctx, compaction.Config{Brokers: cfg.Brokers, LakeDir: lakeDir,
				Tables: topics, Codecs: codecs, Keep: keep, Progress: progress, Logger: e.log})
			for _, s := range snaps {
				var rows int64
				for _, p := range s.Manifest.Partitions {
					rows += p.Rows
				}
				fmt.Fprintf(e.stdout, "%s %d rows in %d partitions\n", s.Dir, rows, len(s.Manifest.Partitions))
			}
			return err
		},
	}
}

func restoreCmd() *command {
	var (
		cf      clusterFlags
		lakeDir string
	)
	return &command{
		name:    "restore",
		summary: "load a table's newest snapshot into the local data dir (the processor must be stopped)",
		help: `Writes the newest snapshot of TABLE into <data-dir>/processor/<group>/<table topic>.<partition>
(Pebble) with the snapshot's changelog offsets as stored offsets; the processor's next start then
replays only the changelog after them. Partitions that already have local state are left alone
(remove their directories first to restore them). 'shopease run' does the same by itself for a
partition without local state.

Example:
  shopease restore shopease-ratings --data-dir ./data --lake-dir ./data/lake`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			fs.StringVar(&lakeDir, "lake-dir", defaultLakeDir, "root of the Parquet lake")
		},
		run: func(_ context.Context, e *env, args []string) error {
			if len(args) != 1 {
				return usagef("restore takes one TABLE")
			}
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			t, ok := processors.FindTable(cfg.Namespace, args[0])
			if !ok {
				return usagef("unknown table %q (see 'shopease inspect tables')", args[0])
			}
			snap, err := compaction.Newest(lakeDir, string(cfg.Namespace.Table(t.Group)))
			if err != nil {
				return err
			}
			dir := filepath.Join(cfg.DataDir, "processor", string(cfg.Namespace.Group(t.Group)))
			res, err := compaction.Restore(snap, dir, e.log)
			for _, r := range res {
				state := fmt.Sprintf("%d rows, offset %d", r.Rows, r.Offset)
				if r.Skipped {
					state = "skipped (local state exists or partition empty)"
				}
				fmt.Fprintf(e.stdout, "partition %d: %s\n", r.Partition, state)
			}
			return err
		},
	}
}
