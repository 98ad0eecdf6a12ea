package processors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/journeys"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/processors/transactions"
)

// runner is one processor (or group of processors) of the topology.
type runner struct {
	name string
	run  func(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error
}

// All lists the processors `shopease run` runs, in topology order.
var all = []runner{
	{"transactions", transactions.Run},
	{"activity", activity.Run},
	{"inventory", inventory.Run},
	{"feedback", feedback.Run},
	{"sales", sales.Run},
	{"journeys", journeys.Run},
	{"realtime", realtime.Run},
}

// Run runs every processor of the ShopEase group until ctx is done or one fails; a failure stops
// the others. It returns nil after a clean stop (ctx cancelled): goka commits offsets and closes
// the local stores before its Run returns. Errors never carry record keys (they may be raw user
// ids): see cluster.RedactError.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := cfg.RequirePseudonyms(); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range all {
		g.Go(func() error { return supervise(ctx, cfg, r, opts) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("processors: %w", err)
	}
	return nil
}

// Restart policy of a processor that fails: transient cluster trouble (a broker restarting, a
// group coordinator moving, a JoinGroup that outlasts a dead member) must not end `shopease run`,
// but a processor that keeps failing must, with its error, instead of looping forever.
const (
	restartBackoffMin = time.Second
	restartBackoffMax = 30 * time.Second
	maxRestarts       = 8 // consecutive failures, each within restartWindow of the previous one
	restartWindow     = 5 * time.Minute
)

// supervise runs r until ctx is done, restarting it with exponential backoff after a failure.
func supervise(ctx context.Context, cfg cluster.Config, r runner, opts []goka.ProcessorOption) error {
	backoff, failures := restartBackoffMin, 0
	lastFailure := time.Time{}
	for {
		err := r.run(ctx, cfg, opts...)
		if ctx.Err() != nil || err == nil || errors.Is(err, context.Canceled) {
			return nil
		}
		err = cluster.RedactError(err)
		if time.Since(lastFailure) > restartWindow {
			failures, backoff = 0, restartBackoffMin
		}
		failures++
		lastFailure = time.Now()
		if failures > maxRestarts {
			return fmt.Errorf("%s: failed %d times in a row, giving up: %w", r.name, failures, err)
		}
		cfg.Logger.Warn("processor failed; restarting", "processor", r.name, "attempt", failures, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}
