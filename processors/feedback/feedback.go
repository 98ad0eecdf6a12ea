package feedback

import (
	"context"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
)

// NewGateway builds the gateway processor; opts come after the cluster's, so a test can inject
// goka.WithTester.
func NewGateway(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return newProcessor(cfg, GatewayGroup, GatewayGraph, opts)
}

// NewRatings builds the ratings processor. Its input, shopease.clean.feedback, must exist: the
// EnsureOutputs creates it (Run calls it).
func NewRatings(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return newProcessor(cfg, RatingsGroup, RatingsGraph, opts)
}

func newProcessor(cfg cluster.Config, g goka.Group, graph func(cluster.Config) (*goka.GroupGraph, error), opts []goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := graph(cfg)
	if err != nil {
		return nil, err
	}
	// A record with a nil value (a tombstone) is judged like any other, so that accepted +
	// duplicate + rejected = read holds: it becomes an undecodable dead letter instead of vanishing.
	opts = append([]goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}, opts...)
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(g), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("feedback: build %s: %w", g, err)
	}
	return p, nil
}

// EnsureOutputs creates shopease.clean.feedback, when missing, with the partition count of the
// raw feedback topic: goka creates a processor's table topic but never its output topics, nor the
// input topics of the ratings processor, which may start before the gateway. The raw topics must
// exist (cluster.Config.EnsureTopics).
func EnsureOutputs(cfg cluster.Config) error {
	ns := cfg.Namespace
	return cfg.EnsureOutputs(ns.Stream(topology.Feedback), []goka.Stream{ns.Stream(topology.CleanFeedback)},
		[]goka.Table{ns.Table(GatewayGroup), ns.Table(RatingsGroup)})
}

// Run creates the clean topic, then runs the gateway and the ratings processor until ctx is done
// or one of them fails (which stops the other); it returns nil on a clean stop. opts apply to
// both processors.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	gw, err := NewGateway(cfg, opts...)
	if err != nil {
		return err
	}
	rt, err := NewRatings(cfg, opts...)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return gw.Run(ctx) })
	g.Go(func() error { return rt.Run(ctx) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("feedback: run: %w", err)
	}
	return nil
}

// NewRatingsView builds a view of the ratings table (product id → *Rating).
func NewRatingsView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	return newView(cfg, RatingsGroup, RatingCodec{}, opts)
}

// NewClaimsView builds a view of the gateway's claim table (review id → *Claim).
func NewClaimsView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	return newView(cfg, GatewayGroup, ClaimCodec{}, opts)
}

func newView(cfg cluster.Config, g goka.Group, c goka.Codec, opts []goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(g)
	v, err := goka.NewView(cfg.Brokers, t, c, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("feedback: build view of %s: %w", t, err)
	}
	return v, nil
}
