package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
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

	// sources is the number of raw activity partitions: each feeds every clean partition, and the
	// schedule's watermark waits for all of them.
	sources int
	// clocks is the activity time each (partition, source) last reported to its schedule (in
	// memory: after a restart the first activity reports again, which is harmless).
	mu     sync.Mutex
	clocks map[clockKey]time.Time
}

type clockKey struct {
	partition int32
	source    string
}

// Graph defines the journeys processor: clean activity ⋈ clean transactions per pseudonymous
// user (both keyed by pseudonym, co-partitioned) → the user table and shopease.journeys.
// activitySources is the partition count of the raw activity topic (see Watermark).
func Graph(cfg cluster.Config, activitySources int) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	p := &processor{obs: cfg.Observer, journeys: ns.Stream(topology.Journeys), dead: ns.Stream(topology.DeadLetter),
		sources: activitySources, clocks: map[clockKey]time.Time{}}
	return goka.DefineGroup(ns.Group(Group),
		// Bytes: a record that does not decode becomes a dead letter instead of stopping the group.
		goka.Input(ns.Stream(topology.CleanActivity), new(codec.Bytes), p.activity),
		goka.Input(ns.Stream(topology.CleanTransactions), new(codec.Bytes), p.transaction),
		// The loop carries the schedule's signals (see Signal).
		goka.Loop(SignalCodec{}, p.signal),
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
	p.tick(ctx, o, a.Time)
}

// tick reports the activity time of the record's source (its raw partition) to the partition's
// schedule once it has advanced by ClockStep.
func (p *processor) tick(ctx goka.Context, o fence.Origin, at time.Time) {
	k := clockKey{ctx.Partition(), o.Topic + "/" + strconv.Itoa(int(o.Partition))}
	p.mu.Lock()
	last, ok := p.clocks[k]
	send := !ok || !at.Before(last.Add(ClockStep))
	if send {
		p.clocks[k] = at
	}
	p.mu.Unlock()
	if send {
		ctx.Loopback(ScheduleKey(k.partition), &Signal{Kind: SignalClock, Source: k.source, At: at.UTC()})
	}
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
		at, err := u.AddPurchaseLine(l)
		if err != nil {
			p.reject(ctx, err.Error(), o, raw)
			return
		}
		if !at.IsZero() {
			ctx.Loopback(ScheduleKey(ctx.Partition()), &Signal{Kind: SignalDue, User: ctx.Key(), At: at.Add(Bound + Slack)})
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

// signal handles the loop: on a schedule key, a due purchase or the partition's clock (flushing
// the users whose purchases are due); on a user key, a flush.
//
// Signals need no fence: each is idempotent (a timer is added once, a clock only moves forward, a
// flush releases only what is still pending). A flush delivered again re-emits the journeys it
// released, by its own loop position, as a fenced record does.
func (p *processor) signal(ctx goka.Context, msg any) {
	s, _ := msg.(*Signal)
	if s == nil {
		return
	}
	u, _ := ctx.Value().(*User)
	if u == nil {
		u = &User{}
	}
	switch s.Kind {
	case SignalDue, SignalClock:
		var t *Timer
		if s.Kind == SignalDue {
			t = &Timer{User: s.User, Due: s.At}
		} else {
			u.Tick(s.Source, s.At)
		}
		wm := u.Watermark(p.sources)
		for _, user := range u.Schedule(t, wm) {
			ctx.Loopback(user, &Signal{Kind: SignalFlush, At: wm.Add(-Slack)})
		}
	case SignalFlush:
		if s.At.After(u.FlushMark) {
			u.FlushMark = s.At
		}
		o := fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		released := u.Release(ctx.Key(), o.String())
		if len(released) == 0 {
			released = u.Released(o.String())
		}
		for _, j := range released {
			fence.Emit(ctx, p.journeys, ctx.Key(), &j, o)
		}
	}
	ctx.SetValue(u)
}

func (p *processor) reject(ctx goka.Context, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, p.dead, Processor, event.ReasonUndecodable, detail, o, raw)
	p.obs.Observe(Processor, outcome.Rejected(event.ReasonUndecodable))
}

// New builds the processor for activitySources raw activity partitions (Run counts them); opts
// come after the cluster's (goka.WithTester in tests).
func New(cfg cluster.Config, activitySources int, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg, activitySources)
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
// until every partition has a leader. It returns the partition count of the raw activity topic.
func EnsureOutputs(cfg cluster.Config) (activitySources int, err error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	tm, err := cfg.TopicManager()
	if err != nil {
		return 0, err
	}
	defer tm.Close()
	ns := cfg.Namespace
	raw := string(ns.Stream(topology.Activity))
	rawParts, err := tm.Partitions(raw)
	if err != nil {
		return 0, fmt.Errorf("journeys: partitions of %s: %w", raw, err)
	}
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
				return 0, fmt.Errorf("journeys: input %s missing after %s (its gateway creates it): %w", name, leaderTimeout, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if parts[0] != parts[1] {
		return 0, fmt.Errorf("%w: %s has %d partitions, %s %d", ErrNotCopartitioned,
			ns.Stream(topology.CleanActivity), parts[0], ns.Stream(topology.CleanTransactions), parts[1])
	}
	out, table := string(ns.Stream(topology.Journeys)), string(ns.Table(Group))
	if err := tm.EnsureStreamExists(out, parts[0]); err != nil {
		return 0, fmt.Errorf("journeys: create %s: %w", out, err)
	}
	if err := tm.EnsureTableExists(table, parts[0]); err != nil {
		return 0, fmt.Errorf("journeys: create %s: %w", table, err)
	}
	for _, topic := range []string{out, table} {
		if err := awaitLeaders(tm, topic, parts[0]); err != nil {
			return 0, err
		}
	}
	return len(rawParts), nil
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
	sources, err := EnsureOutputs(cfg)
	if err != nil {
		return err
	}
	p, err := New(cfg, sources, opts...)
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

// ScheduleKey is the table key of partition's schedule: the purchases of its users waiting for the
// partition's activity time, and that time. Pseudonyms never start with "~", so the schedule
// keys never meet a user's.
func ScheduleKey(partition int32) string { return "~schedule/" + strconv.Itoa(int(partition)) }

// The kinds of Signal.
const (
	SignalDue   = "due"   // to a schedule: flush User once the clock passes At
	SignalClock = "clock" // to a schedule: Source's activity has reached At
	SignalFlush = "flush" // to a user: release what the activity time At lets go
)

// Signal is a message of the processor's loop topic.
type Signal struct {
	Kind   string    `json:"kind"`
	User   string    `json:"user,omitempty"`   // due: the user to flush
	Source string    `json:"source,omitempty"` // clock: the raw activity partition reporting
	At     time.Time `json:"at"`
}

// SignalCodec is the goka codec of the loop topic (JSON).
type SignalCodec struct{}

// Encode encodes a *Signal.
func (SignalCodec) Encode(v any) ([]byte, error) {
	s, ok := v.(*Signal)
	if !ok || s == nil {
		return nil, fmt.Errorf("%w: %T", ErrCodec, v)
	}
	return json.Marshal(s)
}

// Decode decodes a *Signal.
func (SignalCodec) Decode(b []byte) (any, error) {
	s := &Signal{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("journeys: decode signal: %w", err)
	}
	return s, nil
}
