package processors

import (
	"context"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/updatecount"
)

// Run runs every processor of the ShopEase group until ctx is done or one fails; a failure stops
// the others. It returns nil after a clean stop (ctx cancelled): goka commits offsets and closes
// the local stores before its Run returns.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return updatecount.Run(ctx, cfg, opts...) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("processors: %w", err)
	}
	return nil
}
