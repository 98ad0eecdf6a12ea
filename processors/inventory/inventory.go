package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// The processor groups (before namespacing). CleanGroup is stateless; Group's table
// (Group-table) holds one product.Product per canonical SKU.
const (
	CleanGroup = topology.InventoryCleanGroup
	Group      = topology.InventoryGroup
)

// Names the groups report outcomes under; Processor also signs the dead letters.
const (
	Processor         = "inventory"
	ProductsProcessor = "inventory-products"
)

// Late is the outcome of a record whose day was already final in its product (see package
// product); it changes nothing.
const Late outcome.Outcome = "late"

// gateway holds what the cleaning callback needs.
type gateway struct {
	obs        outcome.Observer
	clean      goka.Stream
	deadLetter goka.Stream
}

// CleanGraph defines the cleaning group in cfg's namespace: raw inventory in (as bytes, so that an
// undecodable record becomes a dead letter instead of a crash loop), standardized records and
// dead letters out.
func CleanGraph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	g := &gateway{obs: cfg.Observer, clean: ns.Stream(topology.CleanInventory), deadLetter: ns.Stream(topology.DeadLetter)}
	return goka.DefineGroup(ns.Group(CleanGroup),
		goka.Input(ns.Stream(topology.Inventory), new(codec.Bytes), g.process),
		// Bytes, encoded by process: the product group reads the topic as bytes too (to dead-letter
		// what does not decode), and goka wants one codec per topic within a process.
		goka.Output(g.clean, new(codec.Bytes)),
		goka.Output(g.deadLetter, codecs.DeadLetter{}),
	), nil
}

// process judges one raw record. What it emits depends only on the record, so a redelivery emits
// the same bytes with the same origin stamp and the product table's fence drops the copy.
func (g *gateway) process(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	// A raw record's origin is its own place: a header on a raw topic, written by an outside
	// producer, must not be able to move it in the downstream fences.
	o := fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
	u, err := Decode(raw)
	if err != nil {
		g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	r, reason, detail := Standardize(u)
	if reason != "" {
		g.reject(ctx, reason, detail, o, raw)
		return
	}
	b, err := codecs.AppendInventoryRecord(nil, r)
	if err != nil {
		// Standardize only returns records the codec takes; this guards the invariant.
		g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	fence.Emit(ctx, g.clean, r.SKU, b, o)
	g.obs.Observe(Processor, outcome.Accepted)
}

func (g *gateway) reject(ctx goka.Context, reason event.Reason, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, g.deadLetter, Processor, reason, detail, o, raw)
	g.obs.Observe(Processor, outcome.Rejected(reason))
}

// table holds what the product table callback needs.
type table struct {
	obs        outcome.Observer
	deadLetter goka.Stream
}

// Graph defines the product table group in cfg's namespace: standardized records in, keyed by
// canonical SKU, and a table of product.Product. The input is read as bytes so that a record the
// codec refuses (written by something other than the cleaning group) becomes a dead letter.
func Graph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	t := &table{obs: cfg.Observer, deadLetter: ns.Stream(topology.DeadLetter)}
	return goka.DefineGroup(ns.Group(Group),
		goka.Input(ns.Stream(topology.CleanInventory), new(codec.Bytes), t.apply),
		goka.Output(t.deadLetter, codecs.DeadLetter{}),
		goka.Persist(codecs.Product{}),
	), nil
}

func (t *table) apply(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		t.reject(ctx, err.Error(), o, raw)
		return
	}
	r, err := codecs.DecodeInventoryRecord(raw)
	if err != nil {
		t.reject(ctx, err.Error(), o, raw)
		return
	}
	p, _ := ctx.Value().(*product.Product)
	if p == nil {
		p = product.New(ctx.Key())
	}
	if !p.Fence.Admit(o) {
		fence.Keep(ctx, p) // redelivered after a crash: applied before
		return
	}
	switch p.Apply(r) {
	case product.Applied:
		t.obs.Observe(ProductsProcessor, outcome.Accepted)
	case product.Duplicate:
		t.obs.Observe(ProductsProcessor, outcome.Duplicate)
	case product.Late:
		t.obs.Observe(ProductsProcessor, Late)
	}
	ctx.SetValue(p)
}

func (t *table) reject(ctx goka.Context, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, t.deadLetter, ProductsProcessor, event.ReasonUndecodable, detail, o, raw)
	t.obs.Observe(ProductsProcessor, outcome.Rejected(event.ReasonUndecodable))
}

// NewClean builds the cleaning processor; opts come after the cluster's, so a test can inject
// goka.WithTester.
func NewClean(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := CleanGraph(cfg)
	if err != nil {
		return nil, err
	}
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(CleanGroup), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("inventory: build cleaning processor: %w", err)
	}
	return p, nil
}

// New builds the product table processor; opts come after the cluster's. Its input topic must
// exist (EnsureOutputs).
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg)
	if err != nil {
		return nil, err
	}
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("inventory: build product processor: %w", err)
	}
	return p, nil
}

// EnsureOutputs creates shopease.clean.inventory (in cfg's namespace) with the partition count of
// the raw inventory topic, which must exist, and the product table's changelog topic, and waits
// until every partition of both has a leader. goka creates neither input nor output streams (a
// broker that auto-creates the clean topic on first write would give it its default partition
// count, breaking co-partitioning), and a processor that finds its table topic just created but
// without leaders fails at start ("not the leader for some partition").
func EnsureOutputs(cfg cluster.Config) error {
	ns := cfg.Namespace
	return cfg.EnsureOutputs(ns.Stream(topology.Inventory), []goka.Stream{ns.Stream(topology.CleanInventory)},
		[]goka.Table{ns.Table(Group)})
}

// Run creates the clean topic and runs both groups until ctx is done or one fails; it returns
// nil on a clean stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	clean, err := NewClean(cfg, opts...)
	if err != nil {
		return err
	}
	products, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range []*goka.Processor{clean, products} {
		g.Go(func() error { return p.Run(ctx) })
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("inventory: run: %w", err)
	}
	return nil
}

// NewView builds a view of the product table; look products up with Lookup.
func NewView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(Group)
	v, err := goka.NewView(cfg.Brokers, t, codecs.Product{}, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("inventory: build view: %w", err)
	}
	return v, nil
}

// Lookup returns the product of sku, given in any form the standardization accepts (" p0007 "),
// or nil when the table has none.
func Lookup(v *goka.View, sku string) (*product.Product, error) {
	val, err := v.Get(StandardSKU(sku))
	if err != nil {
		return nil, fmt.Errorf("inventory: get %s: %w", StandardSKU(sku), err)
	}
	p, _ := val.(*product.Product)
	return p, nil
}
