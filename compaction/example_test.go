package compaction_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// Wiring snapshots into `shopease run`: the processors' storage restores a partition from the
// newest snapshot when it has no local state, and a goroutine snapshots every table periodically.
func Example_wiring() {
	lakeDir := "data/lake"
	logger := slog.Default()
	cfg := cluster.Config{Brokers: []string{"127.0.0.1:9092"}, DataDir: "data", Logger: logger}
	cfg.Storage = func(dir string) storage.Builder {
		return compaction.RestoringBuilder(lakeDir, dir, tables.NewBuilder(dir, tables.WithLogger(logger)),
			compaction.WithLogger(logger), compaction.WithHighWaterMark(cfg.HighWaterMark))
	}
	ctx := context.Background()
	go func() {
		_ = compaction.RunPeriodic(ctx, compaction.Config{Brokers: cfg.Brokers, LakeDir: lakeDir,
			Tables: []string{"shopease-ratings-table"}, Keep: 3, Logger: logger}, 10*time.Minute)
	}()
	// processors.Run(ctx, cfg) …
}
