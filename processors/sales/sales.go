package sales

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// Groups (before namespacing): the sales table (key: product id) holds ProductSales, the revenue
// table (key: OrderKey) holds OrderMonth.
const (
	Group        = topology.SalesGroup
	RevenueGroup = topology.RevenueGroup
)

// Names the processors report outcomes under.
const (
	Processor        = "sales"
	RevenueProcessor = "revenue"
)

// ErrCodec is returned when a table codec is given a value of the wrong type.
var ErrCodec = errors.New("sales: codec: unsupported value")

type processor struct {
	obs    outcome.Observer
	orders goka.Stream
	dead   goka.Stream
	name   string
}

// Graph defines the sales processor: shopease.sales (key: product id) → sales table, and every
// line forwarded to shopease.sales.orders (key: OrderKey).
func Graph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	p := &processor{obs: cfg.Observer, orders: ns.Stream(topology.SalesOrders), dead: ns.Stream(topology.DeadLetter), name: Processor}
	return goka.DefineGroup(ns.Group(Group),
		// Bytes: a record that does not decode becomes a dead letter instead of stopping the group.
		goka.Input(ns.Stream(topology.Sales), new(codec.Bytes), p.sales),
		// The line is forwarded as the bytes it arrived in: nothing about it changes.
		goka.Output(p.orders, new(codec.Bytes)),
		goka.Output(p.dead, codecs.DeadLetter{}),
		goka.Persist(ProductSalesCodec{}),
	), nil
}

// RevenueGraph defines the revenue processor: shopease.sales.orders (key: OrderKey) → revenue
// table.
func RevenueGraph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	p := &processor{obs: cfg.Observer, dead: ns.Stream(topology.DeadLetter), name: RevenueProcessor}
	return goka.DefineGroup(ns.Group(RevenueGroup),
		goka.Input(ns.Stream(topology.SalesOrders), new(codec.Bytes), p.revenue),
		goka.Output(p.dead, codecs.DeadLetter{}),
		goka.Persist(OrderMonthCodec{}),
	), nil
}

// decode reads the origin and the line of a clean record, or dead-letters it.
func (p *processor) decode(ctx goka.Context, msg any) (fence.Origin, *event.TransactionLine, bool) {
	raw, _ := msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		// Without a valid origin the record cannot be fenced; keep it for a human to look at.
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		p.reject(ctx, err.Error(), o, raw)
		return o, nil, false
	}
	l, err := codecs.DecodeTransactionLine(raw)
	if err != nil {
		p.reject(ctx, err.Error(), o, raw)
		return o, nil, false
	}
	return o, l, true
}

func (p *processor) reject(ctx goka.Context, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, p.dead, p.name, event.ReasonUndecodable, detail, o, raw)
	p.obs.Observe(p.name, outcome.Rejected(event.ReasonUndecodable))
}

// sales applies one line to its product unless its origin was applied before, and forwards it to
// its order and month in every case.
//
// Forwarding even a fenced line is what keeps the revenue table exact: after a crash the sales
// table may already hold a line whose forward never reached Kafka (goka writes the changelog and
// the outputs independently), so a redelivered line must be forwarded again; the revenue fence
// drops the copies.
func (p *processor) sales(ctx goka.Context, msg any) {
	o, l, ok := p.decode(ctx, msg)
	if !ok {
		return
	}
	ps, _ := ctx.Value().(*ProductSales)
	if ps == nil {
		ps = &ProductSales{ProductID: l.ProductID}
	}
	raw, _ := msg.([]byte)
	if ps.Fence.Admit(o) {
		if err := ps.Add(l); err != nil {
			p.reject(ctx, err.Error(), o, raw)
			return
		}
		ctx.SetValue(ps)
		p.obs.Observe(p.name, outcome.Accepted)
	} else {
		fence.Keep(ctx, ps)
		p.obs.Observe(p.name, outcome.Duplicate)
	}
	fence.Emit(ctx, p.orders, OrderKey(Month(l.Time), l.OrderID), raw, via(o, string(ctx.Topic()), ctx.Partition()))
}

// via is the origin a forwarded line carries: the raw origin seen through one sales partition.
//
// A fence needs the records of one source to reach a key in offset order. Lines of one raw
// partition reach one product through one gateway partition and one sales partition, in order;
// but an order key receives them through every sales partition that holds one of the order's
// products, and those interleave. Within one sales partition they stay in raw-offset order, so
// the source of the revenue fence is "raw topic/partition@sales topic" with the sales partition
// as its partition, and the offset stays the raw one.
func via(o fence.Origin, salesTopic string, salesPartition int32) fence.Origin {
	return fence.Origin{
		Topic:     o.Topic + "/" + strconv.Itoa(int(o.Partition)) + "@" + salesTopic,
		Partition: salesPartition,
		Offset:    o.Offset,
	}
}

// revenue applies one line to its order and month unless it was applied before.
func (p *processor) revenue(ctx goka.Context, msg any) {
	o, l, ok := p.decode(ctx, msg)
	if !ok {
		return
	}
	om, _ := ctx.Value().(*OrderMonth)
	if om == nil {
		om = &OrderMonth{Month: Month(l.Time), OrderID: l.OrderID}
	}
	if !om.Fence.Admit(o) {
		fence.Keep(ctx, om)
		p.obs.Observe(p.name, outcome.Duplicate)
		return
	}
	if err := om.Add(l); err != nil {
		raw, _ := msg.([]byte)
		p.reject(ctx, err.Error(), o, raw)
		return
	}
	ctx.SetValue(om)
	p.obs.Observe(p.name, outcome.Accepted)
}

// New builds the sales processor; opts come after the cluster's (goka.WithTester in tests).
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return build(cfg, Group, Graph, opts)
}

// NewRevenue builds the revenue processor.
func NewRevenue(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return build(cfg, RevenueGroup, RevenueGraph, opts)
}

func build(cfg cluster.Config, g goka.Group, graph func(cluster.Config) (*goka.GroupGraph, error), opts []goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := graph(cfg)
	if err != nil {
		return nil, err
	}
	// A null value becomes an undecodable dead letter instead of vanishing unseen.
	opts = append([]goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}, opts...)
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(g), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("sales: build %s processor: %w", g, err)
	}
	return p, nil
}

// EnsureOutputs waits for the sales input (the transactions gateway creates it: creating it here
// too would race the gateway, and the loser fails with "already exists"), then creates the
// sales.orders stream and both tables with its partition count, and waits until every partition
// has a leader.
func EnsureOutputs(cfg cluster.Config) error {
	ns := cfg.Namespace
	if err := cfg.EnsureOutputs(ns.Stream(topology.Sales), []goka.Stream{ns.Stream(topology.SalesOrders)},
		[]goka.Table{ns.Table(Group), ns.Table(RevenueGroup)}); err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	return nil
}

// Run creates the topics and runs the sales and revenue processors until ctx is done; it returns
// nil on a clean stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	sp, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	rp, err := NewRevenue(cfg, opts...)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	for name, p := range map[string]*goka.Processor{Processor: sp, RevenueProcessor: rp} {
		g.Go(func() error {
			if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("sales: run %s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// NewView builds a view of the sales table (product id → *ProductSales).
func NewView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	return view(cfg, Group, ProductSalesCodec{}, opts)
}

// NewRevenueView builds a view of the revenue table (OrderKey → *OrderMonth).
func NewRevenueView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	return view(cfg, RevenueGroup, OrderMonthCodec{}, opts)
}

func view(cfg cluster.Config, g goka.Group, c goka.Codec, opts []goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(g)
	v, err := goka.NewView(cfg.Brokers, t, c, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("sales: build view of %s: %w", t, err)
	}
	return v, nil
}
