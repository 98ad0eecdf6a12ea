package activity

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

// Group is the processor group (before namespacing). The gateway has no group table.
const Group = topology.ActivityGroup

// Processor is the name the gateway reports outcomes under and signs its dead letters with.
const Processor = "activity"

// gateway holds what the per-record callback needs.
type gateway struct {
	ps         *pseudonym.Pseudonymizer
	obs        outcome.Observer
	clean      goka.Stream
	deadLetter goka.Stream
}

// Graph defines the gateway in cfg's namespace: raw activity in (as bytes, so that an undecodable
// record becomes a dead letter instead of a crash loop), clean activity and dead letters out. It
// needs cfg.Pseudonyms.
func Graph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ps, err := cfg.RequirePseudonyms()
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	ns := cfg.Namespace
	g := &gateway{
		ps:         ps,
		obs:        cfg.Observer,
		clean:      ns.Stream(topology.CleanActivity),
		deadLetter: ns.Stream(topology.DeadLetter),
	}
	return goka.DefineGroup(ns.Group(Group),
		goka.Input(ns.Stream(topology.Activity), new(codec.Bytes), g.process),
		// Control: the clean topic also carries the end-of-input markers the gateway forwards.
		goka.Output(g.clean, codecs.Control{Codec: codecs.Activity{}}),
		goka.Output(g.deadLetter, codecs.DeadLetter{}),
	), nil
}

// process judges one raw record. Everything it emits depends only on the record, so a redelivery
// emits the same bytes with the same origin stamp.
func (g *gateway) process(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	o := RawOrigin(ctx)
	if event.IsEndOfInput(ctx.Headers()) {
		// A marker is no event and no outcome (accepted + rejected = read counts events);
		// forwarded again when redelivered, identically.
		if err := fence.ForwardEndOfInput(ctx, g.clean, raw, o); err != nil {
			g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		}
		return
	}
	a, err := Decode(raw)
	if err != nil {
		g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	if reason, detail := Check(a); reason != "" {
		g.reject(ctx, reason, detail, o, raw)
		return
	}
	a.UserID = g.ps.Of(a.UserID)
	fence.Emit(ctx, g.clean, a.UserID, a, o)
	g.obs.Observe(Processor, outcome.Accepted)
}

func (g *gateway) reject(ctx goka.Context, reason event.Reason, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, g.deadLetter, Processor, reason, detail, o, raw)
	g.obs.Observe(Processor, outcome.Rejected(reason))
}

// RawOrigin is the origin of a record read from a raw topic: its own topic, partition and offset.
// Unlike fence.Of it ignores an origin header, because raw topics are written by outside producers
// and a header there must not be able to move a record's place in the downstream fences.
func RawOrigin(ctx goka.Context) fence.Origin {
	return fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
}

// New builds the gateway; opts come after the cluster's, so a test can inject goka.WithTester.
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg)
	if err != nil {
		return nil, err
	}
	// A record with a nil value (a tombstone) is judged like any other, so that accepted +
	// rejected = read holds: it becomes an undecodable dead letter instead of vanishing.
	opts = append([]goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}, opts...)
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("activity: build processor: %w", err)
	}
	return p, nil
}

// EnsureOutputs creates shopease.clean.activity, when missing, with the raw activity topic's
// partition count, so that consumers joining it with other topics keyed by pseudonym stay
// co-partitioned. goka creates a processor's table topic but never its output topics. The raw
// topics must exist (cluster.Config.EnsureTopics).
func EnsureOutputs(cfg cluster.Config) error {
	ns := cfg.Namespace
	return cfg.EnsureOutputs(ns.Stream(topology.Activity), []goka.Stream{ns.Stream(topology.CleanActivity)}, nil)
}

// Run creates the output topic and runs the gateway until ctx is done; it returns nil on a clean
// stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	p, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("activity: run: %w", err)
	}
	return nil
}
