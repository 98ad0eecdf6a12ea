package feedback

import (
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// RatingsGroup is the ratings processor group (before namespacing); its table (GROUP-table,
// keyed by product id) holds Ratings.
const RatingsGroup = topology.RatingsGroup

// RatingsProcessor is the name the ratings processor reports outcomes under.
const RatingsProcessor = "ratings"

type ratings struct {
	obs        outcome.Observer
	deadLetter goka.Stream
}

// RatingsGraph defines the ratings processor in cfg's namespace. Its input is read as bytes too:
// the clean topic is written by the gateway only, but a record that does not decode must become a
// dead letter rather than stop the group.
func RatingsGraph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	r := &ratings{obs: cfg.Observer, deadLetter: ns.Stream(topology.DeadLetter)}
	return goka.DefineGroup(ns.Group(RatingsGroup),
		goka.Input(ns.Stream(topology.CleanFeedback), new(codec.Bytes), r.process),
		goka.Persist(RatingCodec{}),
		goka.Output(r.deadLetter, codecs.DeadLetter{}),
	), nil
}

// process applies one clean review to its product's rating unless its origin was applied before.
func (rt *ratings) process(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		// Without a valid origin the record cannot be fenced; keep it for a human to look at.
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		rt.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	rv, err := codecs.DecodeReview(raw)
	if err != nil {
		rt.reject(ctx, event.ReasonUndecodable, err.Error(), o, raw)
		return
	}
	if !ValidRating(rv.Rating) {
		rt.reject(ctx, event.ReasonBadRating, "rating outside 1..5 on the clean topic", o, raw)
		return
	}
	r, _ := ctx.Value().(*Rating)
	if r == nil {
		r = &Rating{}
	}
	if !r.Fence.Admit(o) {
		fence.Keep(ctx, r)
		rt.obs.Observe(RatingsProcessor, outcome.Duplicate)
		return
	}
	r.Add(rv.Rating)
	ctx.SetValue(r)
	rt.obs.Observe(RatingsProcessor, outcome.Accepted)
}

func (rt *ratings) reject(ctx goka.Context, reason event.Reason, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, rt.deadLetter, RatingsProcessor, reason, detail, o, raw)
	rt.obs.Observe(RatingsProcessor, outcome.Rejected(reason))
}
