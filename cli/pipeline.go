package cli

import (
	"context"
	"flag"
	"path/filepath"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// pipelineFlags are what `run` (and `demo`) add around the processor group: the Parquet lake
// writer, periodic table snapshots, and restore from the newest snapshot when local state is
// missing.
type pipelineFlags struct {
	lakeDir          string
	archive          bool
	snapshotInterval time.Duration
	keep             int
	processors       []string // empty: all
}

func (p *pipelineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.lakeDir, "lake-dir", "", "root of the Parquet lake (default: <data-dir>/lake)")
	fs.BoolVar(&p.archive, "archive", true, "archive the clean topics to the lake as Parquet (lake writer)")
	fs.DurationVar(&p.snapshotInterval, "snapshot-interval", 10*time.Minute, "snapshot every table to the lake this often (0: never)")
	fs.IntVar(&p.keep, "keep-snapshots", 3, "snapshots kept per table")
}

func (p *pipelineFlags) lake(cfg cluster.Config) string {
	if p.lakeDir != "" {
		return p.lakeDir
	}
	return filepath.Join(cfg.DataDir, "lake")
}

// restoring makes the processors' Pebble storage restore a partition from the newest snapshot
// when it has no local state (the snapshot's sstables ingested, then the changelog tail after its
// offsets replayed with franz-go, so goka finds the partition recovered).
// Open partitions are listed in reg (nil: none) for the /metrics table sizes and recovery.
func (p *pipelineFlags) restoring(e *env, cfg *cluster.Config, reg *tables.Registry) {
	lakeDir := p.lake(*cfg)
	cfg.Storage = func(dir string) storage.Builder {
		inner := tables.NewBuilder(dir, tables.WithLogger(e.log), tables.WithHighWaterMark(cfg.HighWaterMark), tables.WithRegistry(reg))
		return compaction.RestoringBuilder(lakeDir, dir, inner, compaction.WithLogger(e.log), compaction.WithTail(cfg.Brokers))
	}
}

// run runs the processor group with the lake writer, the periodic snapshots and the web server
// (when pw has one) beside it; any of them failing stops all.
func (p *pipelineFlags) run(ctx context.Context, e *env, cfg cluster.Config, pw pipelineWeb) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return processors.RunOnly(gctx, cfg, p.processors) })
	if pw.srv != nil {
		g.Go(func() error { return pw.srv.Run(gctx) })
	}
	lakeDir := p.lake(cfg)
	if p.archive {
		g.Go(func() error {
			_, err := lake.Run(gctx, lake.Config{Brokers: cfg.Brokers, Namespace: cfg.Namespace, LakeDir: lakeDir, Logger: e.log})
			return err
		})
	}
	if p.snapshotInterval > 0 {
		var topics []string
		codecs := map[string]goka.Codec{}
		for _, t := range processors.Tables {
			name := string(cfg.Namespace.Table(t.Group))
			topics = append(topics, name)
			codecs[name] = t.Codec
		}
		g.Go(func() error {
			return compaction.RunPeriodic(gctx, compaction.Config{Brokers: cfg.Brokers, LakeDir: lakeDir, Tables: topics,
				Codecs: codecs, Keep: p.keep, Logger: e.log, Progress: pw.observeSnapshot}, p.snapshotInterval)
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil // stopped by a signal: a clean stop
	}
	return err
}
