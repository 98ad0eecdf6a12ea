package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/replay"
)

func replayCmd() *command {
	var (
		brokers, namespace         string
		rc                         = replay.DefaultConfig()
		progressEvery              time.Duration
		partitions, maxRow         int
		profile, mapping, dataset  string
		manifest, rejects, compres string
	)
	return &command{
		name:    "replay",
		summary: "replay history files (CSV, JSON, NDJSON, gzip) into the raw topics",
		args:    "FILE|DIR...",
		help: `Reads history files, streaming, and sends each row to its raw topic with its event time as the
Kafka record timestamp and the key docs/formats.md gives (transactions by line id, activity by user,
inventory by SKU, feedback by review id). The dataset of a file comes from --dataset, else its folder
or file name, else its CSV header. Rows that cannot be mapped are rejected with file:line and a reason
(malformed, bad_encoding, bad_field, bad_type, too_large) to the dead-letter topic and to the local
--rejects file (it holds raw data: keep it private). A summary ends the run: read = sent + rejected;
the exit status is 1 if any record was lost (run again: it resumes without duplicates).

The manifest remembers what was replayed (by content, so a renamed copy counts as the same file):
replaying it again is a no-op unless --force; an interrupted replay resumes where it stopped.

A run that completes marks the end of its input on every partition of the activity and transactions
topics it wrote (--end-of-input=false to leave that out, e.g. while live producers write too), so
journeys release the orders that would otherwise wait for a later order id from every partition.

Profiles: shopease (files of 'shopease generate'), online-retail (the UCI Online Retail CSVs), or
--mapping FILE for other sources (docs/replay.md has the format and an example).

Example:
  shopease replay --brokers 127.0.0.1:9092 ./history
  shopease replay --brokers 127.0.0.1:9092 ../shared/datasets/online-retail/by-day
  shopease replay --dry-run ./history`,
		flags: func(fs *flag.FlagSet, _ *env) {
			fs.StringVar(&brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
			fs.StringVar(&namespace, "namespace", "", "prefix of every topic name, to share a cluster")
			fs.StringVar(&profile, "profile", "", "built-in profile: shopease or online-retail (default: by CSV header, else shopease)")
			fs.StringVar(&mapping, "mapping", "", "JSON column mapping for other sources (see docs/replay.md)")
			fs.StringVar(&dataset, "dataset", "", "dataset of every file: transactions, inventory, activity or feedback (default: from path or header)")
			fs.Float64Var(&rc.Rate, "rate", 0, "records per second at most (0: as fast as the broker takes them)")
			fs.BoolVar(&rc.DryRun, "dry-run", false, "parse and map only, send nothing, then report")
			fs.BoolVar(&rc.Force, "force", false, "replay files the manifest says were replayed already")
			fs.BoolVar(&rc.EndOfInput, "end-of-input", true, "end a completed run with an end-of-input marker on every partition of the activity and transactions topics (journeys then release the last orders; docs/replay.md)")
			fs.StringVar(&manifest, "manifest", replay.DefaultManifestPath, "replay manifest (JSON)")
			fs.StringVar(&rejects, "rejects", replay.DefaultRejectsPath, "local rejects file (NDJSON, appended; empty: none)")
			fs.StringVar(&compres, "compression", replay.DefaultCompression, "lz4, zstd, snappy, gzip or none")
			fs.IntVar(&partitions, "partitions", 0, "fail unless every target topic has this many partitions (0: any)")
			fs.IntVar(&maxRow, "max-row-bytes", replay.DefaultMaxRowBytes, "longest row accepted; longer rows are rejected as too_large")
			fs.DurationVar(&progressEvery, "progress-interval", 10*time.Second, "period of progress lines when stderr is not a terminal")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 {
				return usagef("give at least one FILE or DIR")
			}
			rc.Paths, rc.Namespace = args, topology.Namespace(namespace)
			for _, b := range strings.Split(brokers, ",") {
				if b = strings.TrimSpace(b); b != "" {
					rc.Brokers = append(rc.Brokers, b)
				}
			}
			rc.Profile, rc.MappingFile, rc.Dataset = profile, mapping, dataset
			rc.ManifestPath, rc.RejectsPath, rc.Compression = manifest, rejects, compres
			rc.Partitions, rc.MaxRowBytes, rc.ProgressInterval = partitions, maxRow, progressEvery
			if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				rc.Progress = f
			}
			if err := rc.Validate(); err != nil {
				return usagef("%s", err)
			}
			// Replay allocates a little per row and keeps almost nothing: a rarer GC gave ~15 %
			// more rows per CPU second (replay's benchmarks).
			debug.SetGCPercent(400)
			sum, err := replay.Run(ctx, rc, e.log)
			if sum != nil {
				if werr := sum.WriteText(e.stdout); werr != nil && err == nil {
					err = werr
				}
			}
			if errors.Is(err, replay.ErrTopicMissing) {
				return fmt.Errorf("%w\n  shopease topics create --brokers %s --namespace %q", err, brokers, namespace)
			}
			return err
		},
	}
}
