package journeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// Group is the processor group (before namespacing); its table (key: pseudonymous user id) holds
// *User.
const Group = topology.JourneysGroup

// Processor is the name the processor reports outcomes under.
const Processor = "journeys"

// ErrCodec is returned when a codec is given a value of the wrong type.
var ErrCodec = errors.New("journeys: codec: unsupported value")

type processor struct {
	obs      outcome.Observer
	journeys goka.Stream
	dead     goka.Stream
}

// Graph defines the journeys processor: clean activity ⋈ clean transactions per pseudonymous
// user (both keyed by pseudonym, co-partitioned) → the user table and shopease.journeys.
func Graph(cfg cluster.Config) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	p := &processor{obs: cfg.Observer, journeys: ns.Stream(topology.Journeys), dead: ns.Stream(topology.DeadLetter)}
	return goka.DefineGroup(ns.Group(Group),
		// Bytes: a record that does not decode becomes a dead letter instead of stopping the group.
		goka.Input(ns.Stream(topology.CleanActivity), new(codec.Bytes), p.activity),
		goka.Input(ns.Stream(topology.CleanTransactions), new(codec.Bytes), p.transaction),
		goka.Output(p.journeys, JourneyCodec{}),
		goka.Output(p.dead, codecs.DeadLetter{}),
		goka.Persist(UserCodec{}),
	), nil
}

// admit reads the origin and the user value; for a record applied before it re-emits the
// journeys that record released (the emit may have been lost in a crash after the table write)
// and returns nil.
func (p *processor) admit(ctx goka.Context, msg any) (*User, fence.Origin, []byte, bool) {
	raw, _ := msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		p.reject(ctx, err.Error(), o, raw)
		return nil, o, raw, false
	}
	u, _ := ctx.Value().(*User)
	if u == nil {
		u = &User{}
	}
	if !u.Fence.Admit(o) {
		for _, j := range u.Released(o.String()) {
			fence.Emit(ctx, p.journeys, ctx.Key(), &j, o)
		}
		p.obs.Observe(Processor, outcome.Duplicate)
		return nil, o, raw, false
	}
	return u, o, raw, true
}

func (p *processor) activity(ctx goka.Context, msg any) {
	u, o, raw, ok := p.admit(ctx, msg)
	if !ok {
		return
	}
	a, err := codecs.DecodeActivity(raw)
	if err != nil {
		p.reject(ctx, err.Error(), o, raw)
		return
	}
	u.AddActivity(a)
	p.finish(ctx, u, o)
}

func (p *processor) transaction(ctx goka.Context, msg any) {
	u, o, raw, ok := p.admit(ctx, msg)
	if !ok {
		return
	}
	l, err := codecs.DecodeTransactionLine(raw)
	if err != nil {
		p.reject(ctx, err.Error(), o, raw)
		return
	}
	// Refunds and returns end no journey; they pass the fence all the same.
	if l.Type == event.Purchase {
		if err := u.AddPurchaseLine(l); err != nil {
			p.reject(ctx, err.Error(), o, raw)
			return
		}
	}
	p.finish(ctx, u, o)
}

// finish releases the journeys the record made ready and stores the user.
func (p *processor) finish(ctx goka.Context, u *User, o fence.Origin) {
	for _, j := range u.Release(ctx.Key(), o.String()) {
		fence.Emit(ctx, p.journeys, ctx.Key(), &j, o)
	}
	ctx.SetValue(u)
	p.obs.Observe(Processor, outcome.Accepted)
}

func (p *processor) reject(ctx goka.Context, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, p.dead, Processor, event.ReasonUndecodable, detail, o, raw)
	p.obs.Observe(Processor, outcome.Rejected(event.ReasonUndecodable))
}

// New builds the processor; opts come after the cluster's (goka.WithTester in tests).
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg)
	if err != nil {
		return nil, err
	}
	opts = append([]goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}, opts...)
	p, err := goka.NewProcessor(cfg.Brokers, gg, cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("journeys: build processor: %w", err)
	}
	return p, nil
}

// EnsureOutputs waits for the two clean inputs (the gateways create them), checks that they are
// co-partitioned, creates shopease.journeys and the table with their partition count, and waits
// until every partition has a leader.
func EnsureOutputs(cfg cluster.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	tm, err := cfg.TopicManager()
	if err != nil {
		return err
	}
	defer tm.Close()
	ns := cfg.Namespace
	var parts []int
	for _, in := range []goka.Stream{topology.CleanActivity, topology.CleanTransactions} {
		name := string(ns.Stream(in))
		for deadline := time.Now().Add(leaderTimeout); ; {
			ps, err := tm.Partitions(name)
			if err == nil {
				parts = append(parts, len(ps))
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("journeys: input %s missing after %s (its gateway creates it): %w", name, leaderTimeout, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if parts[0] != parts[1] {
		return fmt.Errorf("%w: %s has %d partitions, %s %d", ErrNotCopartitioned,
			ns.Stream(topology.CleanActivity), parts[0], ns.Stream(topology.CleanTransactions), parts[1])
	}
	out, table := string(ns.Stream(topology.Journeys)), string(ns.Table(Group))
	if err := tm.EnsureStreamExists(out, parts[0]); err != nil {
		return fmt.Errorf("journeys: create %s: %w", out, err)
	}
	if err := tm.EnsureTableExists(table, parts[0]); err != nil {
		return fmt.Errorf("journeys: create %s: %w", table, err)
	}
	for _, topic := range []string{out, table} {
		if err := awaitLeaders(tm, topic, parts[0]); err != nil {
			return err
		}
	}
	return nil
}

// ErrNotCopartitioned is returned when the joined inputs differ in partition count.
var ErrNotCopartitioned = errors.New("journeys: inputs not co-partitioned")

const leaderTimeout = 30 * time.Second

func awaitLeaders(tm goka.TopicManager, topic string, partitions int) error {
	deadline := time.Now().Add(leaderTimeout)
	for p := int32(0); p < int32(partitions); p++ {
		for {
			_, err := tm.GetOffset(topic, p, sarama.OffsetOldest)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("journeys: %s/%d has no leader after %s: %w", topic, p, leaderTimeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// Run creates the outputs and runs the processor until ctx is done; nil on a clean stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	if err := EnsureOutputs(cfg); err != nil {
		return err
	}
	p, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("journeys: run: %w", err)
	}
	return nil
}

// NewView builds a view of the user table (pseudonym → *User).
func NewView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(Group)
	v, err := goka.NewView(cfg.Brokers, t, UserCodec{}, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("journeys: build view: %w", err)
	}
	return v, nil
}
