package transactions

import (
	"context"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
)

// Group is the processor group (before namespacing); its table, keyed by line id, is Group-table.
const Group = topology.TransactionsGroup

// Processor is the name this gateway reports to the Observer and writes into dead letters.
const Processor = "transactions"

// gateway holds what the record callback needs; it is immutable after Graph.
type gateway struct {
	pseudonyms *pseudonym.Pseudonymizer
	observer   outcome.Observer
	clean      goka.Stream
	sales      goka.Stream
	dead       goka.Stream
}

// Graph defines the gateway in cfg's namespace. It fails without a pseudonymization key: the
// gateway must never start without one.
func Graph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := cfg.RequirePseudonyms()
	if err != nil {
		return nil, fmt.Errorf("transactions: %w", err)
	}
	ns := cfg.Namespace
	g := &gateway{
		pseudonyms: p,
		observer:   cfg.Observer,
		clean:      ns.Stream(topology.CleanTransactions),
		sales:      ns.Stream(topology.Sales),
		dead:       ns.Stream(topology.DeadLetter),
	}
	return goka.DefineGroup(ns.Group(Group),
		// Bytes, not the line codec: a record the codec refuses must become a dead letter, not a
		// decode error that stops the partition and is retried forever.
		goka.Input(ns.Stream(topology.Transactions), new(codec.Bytes), g.process),
		// Control: the clean topic also carries the end-of-input markers the gateway forwards.
		goka.Output(g.clean, codecs.Control{Codec: codecs.TransactionLine{}}),
		goka.Output(g.sales, codecs.TransactionLine{}),
		goka.Output(g.dead, codecs.DeadLetter{}),
		goka.Persist(ClaimCodec{}),
	), nil
}

// process decides the fate of one raw record: rejected (dead letter), duplicate (nothing), or
// accepted (the pseudonymized line to the clean and sales topics).
//
// Validation comes before dedupe, so a rejected record never claims its line id and an invalid
// record is rejected with its reason even when a valid record already claimed the id.
//
// A record at the claimed offset is the claiming record delivered again after a crash (goka had
// written the claim but not committed the input offset). It is emitted again, byte for byte as
// before — the outputs depend only on the record and the key — and downstream per-key fences drop
// the copies by their origin.
func (g *gateway) process(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	// The raw record is the origin by definition. An origin header on a raw topic would come from
	// outside the pipeline and is not trusted: a wrong one would make downstream fences drop
	// records.
	o := fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
	if event.IsEndOfInput(ctx.Headers()) {
		// A marker is no record: no claim, no sales line, no outcome (accepted + duplicate +
		// rejected = read counts records); forwarded again when redelivered, identically.
		if err := fence.ForwardEndOfInput(ctx, g.clean, raw, o); err != nil {
			g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		}
		return
	}
	line, err := Decode(raw)
	if err != nil {
		// codecs errors name the field and never quote free text, so the text is safe to keep.
		g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	if reason, detail := Validate(line); reason != "" {
		g.reject(ctx, reason, detail, o, raw)
		return
	}
	if v := ctx.Value(); v != nil && v.(*Claim).Offset != ctx.Offset() {
		g.observer.Observe(Processor, outcome.Duplicate)
		return
	}
	// Also written when the record claimed its line before (a redelivery) (fence.Keep).
	ctx.SetValue(&Claim{Offset: ctx.Offset()})
	line.UserID = g.pseudonyms.Of(line.UserID)
	fence.Emit(ctx, g.clean, line.UserID, line, o)
	fence.Emit(ctx, g.sales, line.ProductID, line, o)
	g.observer.Observe(Processor, outcome.Accepted)
}

func (g *gateway) reject(ctx goka.Context, reason event.Reason, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, g.dead, Processor, reason, detail, o, raw)
	g.observer.Observe(Processor, outcome.Rejected(reason))
}

// New builds the processor; opts come after the cluster's, so a test can inject goka.WithTester.
// It does not create the output topics (see EnsureOutputs): goka does not either.
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg)
	if err != nil {
		return nil, err
	}
	// A record with a null value would otherwise be dropped unseen (goka's default), breaking
	// accepted + duplicate + rejected = read; processed, it becomes an undecodable dead letter.
	opts = append([]goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}, opts...)
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("transactions: build processor: %w", err)
	}
	return p, nil
}

// EnsureOutputs creates the clean transactions and sales topics with the raw transactions topic's
// partition count, so consumers that join them with other topics keyed alike stay co-partitioned.
// goka creates a processor's table topic but never its output topics, and a broker that
// auto-creates them would use its own default count. The raw topic must exist
// (cluster.Config.EnsureTopics).
func EnsureOutputs(cfg cluster.Config) error {
	ns := cfg.Namespace
	return cfg.EnsureOutputs(ns.Stream(topology.Transactions),
		[]goka.Stream{ns.Stream(topology.CleanTransactions), ns.Stream(topology.Sales)}, []goka.Table{ns.Table(Group)})
}

// Run creates the output topics and runs the processor until ctx is done; it returns nil on a
// clean stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	p, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("transactions: run: %w", err)
	}
	return nil
}

// NewView builds a view of the claim table (line id → claiming offset).
func NewView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(Group)
	v, err := goka.NewView(cfg.Brokers, t, ClaimCodec{}, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("transactions: build view: %w", err)
	}
	return v, nil
}
