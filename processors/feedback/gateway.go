package feedback

import (
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

// GatewayGroup is the gateway's processor group (before namespacing); its table (GROUP-table,
// keyed by review id) holds Claims.
const GatewayGroup = topology.FeedbackGroup

// GatewayProcessor is the name the gateway reports outcomes under and signs dead letters with.
const GatewayProcessor = "feedback"

// gateway holds what the per-record callback needs.
type gateway struct {
	ps         *pseudonym.Pseudonymizer
	obs        outcome.Observer
	clean      goka.Stream
	deadLetter goka.Stream
}

// GatewayGraph defines the gateway in cfg's namespace: raw feedback in (as bytes, so that an
// undecodable record becomes a dead letter instead of a crash loop), the claim table, clean
// reviews and dead letters out. It needs cfg.Pseudonyms.
func GatewayGraph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ps, err := cfg.RequirePseudonyms()
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	ns := cfg.Namespace
	g := &gateway{
		ps:         ps,
		obs:        cfg.Observer,
		clean:      ns.Stream(topology.CleanFeedback),
		deadLetter: ns.Stream(topology.DeadLetter),
	}
	return goka.DefineGroup(ns.Group(GatewayGroup),
		goka.Input(ns.Stream(topology.Feedback), new(codec.Bytes), g.process),
		goka.Persist(ClaimCodec{}),
		// Bytes, not codecs.Review: the ratings processor reads this topic as bytes (so that a
		// bad record cannot stop it), and one topic has one codec in a goka program.
		goka.Output(g.clean, new(codec.Bytes)),
		goka.Output(g.deadLetter, codecs.DeadLetter{}),
	), nil
}

// process judges one raw review: rules first, then the claim of its review id.
func (g *gateway) process(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	o := rawOrigin(ctx)
	r, err := codecs.DecodeReview(raw)
	if err != nil {
		g.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	if reason, detail := Check(r); reason != "" {
		g.reject(ctx, reason, detail, o, raw)
		return
	}
	if c, _ := ctx.Value().(*Claim); c != nil && c.Offset != o.Offset {
		g.obs.Observe(GatewayProcessor, outcome.Duplicate)
		return
	}
	// Also written when the record claimed its review before (a redelivery) (fence.Keep).
	ctx.SetValue(&Claim{Offset: o.Offset})
	// Here the record owns its claim: first delivery or a redelivery of the claiming record,
	// which emits the same bytes again for the downstream fences to drop.
	r.UserID = g.ps.Of(r.UserID)
	b, err := codecs.AppendReview(nil, r)
	if err != nil {
		// Everything that decoded encodes (codecs' contract); failing here is a bug, not bad input.
		ctx.Fail(fmt.Errorf("feedback: encode clean review: %w", err))
	}
	fence.Emit(ctx, g.clean, r.ProductID, b, o)
	g.obs.Observe(GatewayProcessor, outcome.Accepted)
}

func (g *gateway) reject(ctx goka.Context, reason event.Reason, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, g.deadLetter, GatewayProcessor, reason, detail, o, raw)
	g.obs.Observe(GatewayProcessor, outcome.Rejected(reason))
}

// rawOrigin is the origin of a record read from a raw topic: its own topic, partition and offset.
// Unlike fence.Of it ignores an origin header, because raw topics are written by outside producers
// and a header there must not be able to move a record's place in the downstream fences.
func rawOrigin(ctx goka.Context) fence.Origin {
	return fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
}
