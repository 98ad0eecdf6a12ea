package compaction

import (
	"context"
	"fmt"
	"time"
)

// RunPeriodic runs Compact every interval until ctx is done, for `shopease run`. A failed run is
// logged and retried at the next tick (the previous snapshots stay usable); RunPeriodic returns
// nil when ctx is done, or an error only for an invalid config or interval.
func RunPeriodic(ctx context.Context, cfg Config, interval time.Duration) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if interval <= 0 {
		return fmt.Errorf("%w: interval %s <= 0", ErrBadConfig, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		snaps, err := Compact(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			cfg.Logger.Error("compaction: run failed; retrying at the next tick", "error", err)
			continue
		}
		cfg.Logger.Info("compaction: run done", "snapshots", len(snaps), "took", time.Since(start).Round(time.Millisecond))
	}
}
