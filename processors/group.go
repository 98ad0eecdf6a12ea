package processors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
)

// runner is one processor (or group of processors) of the topology, with the consumer groups
// it runs.
type runner struct {
	name   string
	groups []goka.Group
	run    func(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error
}

// all lists the processors `shopease run` runs, in topology order.
var all = []runner{
	{"transactions", []goka.Group{topology.TransactionsGroup}, transactions.Run},
	{"activity", []goka.Group{topology.ActivityGroup}, activity.Run},
	{"inventory", []goka.Group{topology.InventoryCleanGroup, topology.InventoryGroup}, inventory.Run},
	{"feedback", []goka.Group{topology.FeedbackGroup, topology.RatingsGroup}, feedback.Run},
	{"sales", []goka.Group{topology.SalesGroup, topology.RevenueGroup}, sales.Run},
	{"journeys", []goka.Group{topology.JourneysGroup}, journeys.Run},
	{"realtime", []goka.Group{topology.RealtimeGroup}, realtime.Run},
}

// Gateways are the processors that clean the raw topics: with the lake writer they are all a
// backfill of the lake needs (`shopease run --processors gateways`).
var Gateways = []string{"transactions", "activity", "inventory", "feedback"}

// Names lists the processors of `shopease run` in topology order.
func Names() []string {
	names := make([]string, len(all))
	for i, r := range all {
		names[i] = r.name
	}
	return names
}

// ParseNames reads a comma-separated list of processor names; "all" (or "") is every processor
// and "gateways" the four gateways. Unknown names are an error that lists the known ones.
func ParseNames(s string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case n == "all":
			out = append(out, Names()...)
		case n == "gateways":
			out = append(out, Gateways...)
		case slices.Contains(Names(), n):
			out = append(out, n)
		default:
			return nil, fmt.Errorf("processors: unknown processor %q (known: %s, or all, gateways)", n, strings.Join(Names(), ", "))
		}
	}
	if len(out) == 0 {
		return Names(), nil
	}
	var names []string // topology order, each once
	for _, n := range Names() {
		if slices.Contains(out, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

func selected(names []string) []runner {
	if len(names) == 0 {
		return all
	}
	var out []runner
	for _, r := range all {
		if slices.Contains(names, r.name) {
			out = append(out, r)
		}
	}
	return out
}

// Run runs every processor of the ShopEase group until ctx is done or one fails; a failure stops
// the others. It returns nil after a clean stop (ctx cancelled): goka commits offsets and closes
// the local stores before its Run returns. Errors never carry record keys (they may be raw user
// ids): see cluster.RedactError.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	return RunOnly(ctx, cfg, nil, opts...)
}

// RunOnly is Run for the named processors (Names; empty: all of them).
func RunOnly(ctx context.Context, cfg cluster.Config, names []string, opts ...goka.ProcessorOption) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := cfg.RequirePseudonyms(); err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(Names(), n) {
			return fmt.Errorf("processors: unknown processor %q", n)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range selected(names) {
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
