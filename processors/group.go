package processors

import (
	"context"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/inventory"
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
		g.Go(func() error {
			if err := r.run(ctx, cfg, opts...); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", r.name, cluster.RedactError(err))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("processors: %w", err)
	}
	return nil
}
