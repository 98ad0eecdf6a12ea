package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

	// sources are the raw partition counts: each raw partition feeds every clean partition, and
	// the schedule's marks wait for all of them.
	sources Sources
	// clocks is the activity time each (partition, source) last reported to its schedule, orders
	// the greatest purchase order id (in memory: after a restart the first record reports again,
	// which is harmless: a mark only moves forward).
	mu     sync.Mutex
	clocks map[clockKey]time.Time
	orders map[clockKey]string
	// ends holds the raw offset of the newest end-of-input marker of each (partition, source)
	// this process has seen: the source's next record reports whatever its clock or order, so
	// that the schedule learns the source delivers again (in memory: after a restart every
	// source's first record reports anyway).
	ends map[clockKey]int64
	// resent holds the fired timers (fired.go) whose flush this process has sent again, until
	// their release is confirmed: after a restart every signal delivered again changes nothing,
	// and each would otherwise send every fired timer's flush again (a restart under a lagging
	// loop made 391,607 journey records of 3,606).
	resent map[resentKey]bool
	// rawActivity and rawTransactions are the raw topics whose partitions are the sources.
	rawActivity, rawTransactions string
}

// Sources are the partition counts of the raw activity and transactions topics: how many
// sources each clean partition interleaves, and the schedule waits to hear from.
type Sources struct {
	Activity, Transactions int
}

type resentKey struct {
	schedule, user, order string
}

type clockKey struct {
	partition int32
	source    string
}

// Graph defines the journeys processor: clean activity ⋈ clean transactions per pseudonymous
// user (both keyed by pseudonym, co-partitioned) → the user table and shopease.journeys.
// sources are the raw partition counts (see Watermark and OrdersMark).
func Graph(cfg cluster.Config, sources Sources) (*goka.GroupGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ns := cfg.Namespace
	p := &processor{obs: cfg.Observer, journeys: ns.Stream(topology.Journeys), dead: ns.Stream(topology.DeadLetter),
		sources: sources, clocks: map[clockKey]time.Time{}, orders: map[clockKey]string{}, ends: map[clockKey]int64{},
		resent:      map[resentKey]bool{},
		rawActivity: string(ns.Stream(topology.Activity)), rawTransactions: string(ns.Stream(topology.Transactions))}
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

// Metrics of records that change no journey (arrival-dependent, so counted here and not in the
// table).
const (
	// LateActivity is activity older than a journey already emitted.
	LateActivity outcome.Outcome = "late_activity"
	// LateLine is a purchase line of an order whose journey was already emitted.
	LateLine outcome.Outcome = "late_line"
)

// admit reads the origin and the user value. For a record applied before (fresh is false) the
// caller only repeats its loop signals: they are idempotent, and the crash may have lost them. No
// input record releases a journey (flushes do), so none has journeys to emit again.
func (p *processor) admit(ctx goka.Context, msg any) (u *User, o fence.Origin, raw []byte, fresh, ok bool) {
	raw, _ = msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		p.reject(ctx, err.Error(), o, raw)
		return nil, o, raw, false, false
	}
	u, _ = ctx.Value().(*User)
	if u == nil {
		u = &User{}
	}
	if !u.Fence.Admit(o) {
		fence.Keep(ctx, u)
		p.obs.Observe(Processor, outcome.Duplicate)
		return u, o, raw, false, true
	}
	return u, o, raw, true, true
}

func (p *processor) activity(ctx goka.Context, msg any) {
	if event.IsEndOfInput(ctx.Headers()) {
		p.endOfInput(ctx, msg)
		return
	}
	u, o, raw, fresh, ok := p.admit(ctx, msg)
	if !ok {
		return
	}
	a, err := codecs.DecodeActivity(raw)
	if err != nil {
		if fresh {
			p.reject(ctx, err.Error(), o, raw)
		}
		return
	}
	if fresh {
		mark := u.ActivityMark
		if u.AddActivity(a) {
			p.obs.Observe(Processor, LateActivity)
		}
		u.prune()
		ctx.SetValue(u)
		p.obs.Observe(Processor, outcome.Accepted)
		for _, pu := range u.Crossed(mark, u.ActivityMark) {
			p.passed(ctx, pu.OrderID)
		}
	} else {
		for _, pu := range u.Crossed(time.Time{}, u.ActivityMark) {
			p.passed(ctx, pu.OrderID)
		}
	}
	p.tick(ctx, o, a.Time, !fresh)
}

// tick reports the activity time of the record's source (its raw partition), rounded down to a
// multiple of ClockStep, to the partition's schedule when that has advanced (or again, when
// repeat is set).
func (p *processor) tick(ctx goka.Context, o fence.Origin, at time.Time, repeat bool) {
	k := clockKey{ctx.Partition(), o.Topic + "/" + strconv.Itoa(int(o.Partition))}
	step := at.UTC().Truncate(ClockStep)
	p.mu.Lock()
	last, ok := p.clocks[k]
	// resumed first: it must forget the marker whichever reason sends.
	send := p.resumed(k, o) || repeat || !ok || step.After(last)
	if step.After(last) {
		p.clocks[k] = step
	}
	p.mu.Unlock()
	if send {
		ctx.Loopback(ScheduleKey(k.partition), &Signal{Kind: SignalClock, Source: k.source, At: step, Next: o.Offset + 1})
	}
}

func (p *processor) transaction(ctx goka.Context, msg any) {
	if event.IsEndOfInput(ctx.Headers()) {
		p.endOfInput(ctx, msg)
		return
	}
	u, o, raw, fresh, ok := p.admit(ctx, msg)
	if !ok {
		return
	}
	l, err := codecs.DecodeTransactionLine(raw)
	if err != nil {
		if fresh {
			p.reject(ctx, err.Error(), o, raw)
		}
		return
	}
	// Refunds and returns end no journey; they pass the fence all the same.
	if l.Type != event.Purchase {
		if fresh {
			ctx.SetValue(u)
			p.obs.Observe(Processor, outcome.Accepted)
		}
		return
	}
	var at time.Time
	if fresh {
		at, err = u.AddPurchaseLine(l, o)
		switch {
		case errors.Is(err, ErrLateLine):
			p.obs.Observe(Processor, LateLine)
		case err != nil:
			p.reject(ctx, err.Error(), o, raw)
			return
		}
		ctx.SetValue(u)
		p.obs.Observe(Processor, outcome.Accepted)
	}
	// The order mark first: after an end-of-input marker it tells the schedule that the source
	// delivers again before the due signal could let the order go as complete.
	p.tickOrder(ctx, o, l.OrderID, !fresh)
	if !fresh || !at.IsZero() {
		p.due(ctx, u, l.OrderID)
	}
}

// due tells the partition's schedule about the user's pending order: its due time (purchase +
// Bound + Slack), and then whether the user's activity has passed the purchase + Bound already.
// The two are separate signals, so that what goes through the loop does not depend on whether
// the activity or the line came first either.
func (p *processor) due(ctx goka.Context, u *User, order string) {
	i := slices.IndexFunc(u.Pending, func(p Purchase) bool { return p.OrderID == order })
	if i < 0 {
		return
	}
	at := u.Pending[i].At
	ctx.Loopback(ScheduleKey(ctx.Partition()), &Signal{Kind: SignalDue, User: ctx.Key(), Order: order, At: at.Add(Bound + Slack)})
	if u.ActivityMark.After(at.Add(Bound)) {
		p.passed(ctx, order)
	}
}

// passed tells the partition's schedule that the user's activity has passed order's purchase +
// Bound.
func (p *processor) passed(ctx goka.Context, order string) {
	ctx.Loopback(ScheduleKey(ctx.Partition()), &Signal{Kind: SignalPassed, User: ctx.Key(), Order: order})
}

// tickOrder reports a purchase line's order id to the partition's schedule when it is the
// greatest its source (raw partition) has delivered here (or again, when repeat is set).
func (p *processor) tickOrder(ctx goka.Context, o fence.Origin, order string, repeat bool) {
	k := clockKey{ctx.Partition(), o.Topic + "/" + strconv.Itoa(int(o.Partition))}
	p.mu.Lock()
	last, ok := p.orders[k]
	send := p.resumed(k, o) || repeat || !ok || order > last
	if order > last {
		p.orders[k] = order
	}
	p.mu.Unlock()
	if send {
		ctx.Loopback(ScheduleKey(k.partition), &Signal{Kind: SignalOrders, Source: k.source, Order: order, Next: o.Offset + 1})
	}
}

// signal handles the loop: on a schedule key, a due or passed purchase, a source's clock or order
// (flushing the users whose orders are ready); on a user key, a flush of the orders listed.
//
// Signals need no fence: each is idempotent (a timer is kept once per order, a mark only moves
// forward, a flush releases only what is still pending). A flush lists the orders it releases, so
// one delivered again emits their journeys again — the crash may have lost those emits — each
// with its order's origin, identical to the first.
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
	case SignalDue, SignalPassed, SignalClock, SignalOrders, SignalEnd:
		before := stateOf(u, s.User, s.Order)
		var t *Timer
		switch s.Kind {
		case SignalDue:
			t = &Timer{User: s.User, Order: s.Order, Due: s.At}
		case SignalPassed:
			t = &Timer{User: s.User, Order: s.Order, Passed: true}
		case SignalClock:
			u.Tick(s.Source, s.At)
			u.See(s.Source, s.Next)
		case SignalOrders:
			u.TickOrder(s.Source, s.Order)
			u.See(s.Source, s.Next)
		case SignalEnd:
			u.EndInput(s.Source, s.Next, s.Markers)
		}
		wm, orders := u.Watermark(p.sources.Activity), u.OrdersMark(p.sources.Transactions)
		if u.AtEnd(p.sources.Activity + p.sources.Transactions) {
			wm, orders = timeAfterAll, orderAfterAll
		}
		ready := u.Schedule(t, wm, orders)
		if before.unchanged(s.User, s.Order, ready) {
			// Its work was done before (fired.go): the flushes it made may have been lost.
			ready = p.resend(ctx.Key(), u.firedFor(s))
		}
		u.markFired(ready)
		ctx.SetValue(u)
		// One flush per order, whatever else is ready at the same moment: the loop then carries
		// the same records in every run.
		for _, r := range ready {
			ctx.Loopback(r.User, &Signal{Kind: SignalFlush, Orders: []string{r.Order}})
		}
	case SignalReleased:
		u.confirm(s.User, s.Order)
		ctx.SetValue(u)
		p.mu.Lock()
		delete(p.resent, resentKey{ctx.Key(), s.User, s.Order})
		p.mu.Unlock()
	case SignalFlush:
		// Confirmed to the schedule whatever is found (fired.go): a flush delivered again
		// confirms again, which changes nothing.
		for _, order := range s.Orders {
			ctx.Loopback(ScheduleKey(ctx.Partition()), &Signal{Kind: SignalReleased, User: ctx.Key(), Order: order})
		}
		released, before := u.Release(ctx.Key(), s.Orders)
		// Written even when nothing was pending (fence.Keep): a flush delivered again after a
		// SIGKILL finds the release done in the local table, whose changelog record may be lost.
		if len(released) > 0 || ctx.Value() != nil {
			ctx.SetValue(u)
		}
		for _, d := range append(before, released...) {
			p.emit(ctx, d)
		}
	}
}

// endOfInput tells the partition's schedule that the marker's raw source has delivered every
// record before it to this partition (package doc, end.go). The marker's own key is no user: it
// gets no value. A redelivered marker repeats the signal, which changes nothing twice.
func (p *processor) endOfInput(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
		p.reject(ctx, err.Error(), o, raw)
		return
	}
	m, err := event.DecodeEndOfInput(raw)
	if err != nil {
		p.reject(ctx, err.Error(), o, raw)
		return
	}
	k := clockKey{ctx.Partition(), o.Topic + "/" + strconv.Itoa(int(o.Partition))}
	p.mu.Lock()
	if last, ok := p.ends[k]; !ok || o.Offset > last {
		p.ends[k] = o.Offset
	}
	p.mu.Unlock()
	// Only the announcements for this processor's own sources: a source it never hears from
	// would keep the partition from its end forever.
	announced := map[string]int64{}
	for src, off := range m.Markers {
		if topic, _, ok := strings.Cut(src, "/"); ok && (topic == p.rawActivity || topic == p.rawTransactions) {
			announced[src] = off + 1
		}
	}
	ctx.Loopback(ScheduleKey(k.partition), &Signal{Kind: SignalEnd, Source: k.source, Markers: announced, Next: o.Offset + 1})
}

// resend returns the fired timers of schedule whose flush this process has not sent again yet,
// and remembers them: one repeat each until confirmed is enough, a later crash forgets them.
func (p *processor) resend(schedule string, fired []Timer) []Timer {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Timer
	for _, t := range fired {
		k := resentKey{schedule, t.User, t.Order}
		if !p.resent[k] {
			p.resent[k] = true
			out = append(out, t)
		}
	}
	return out
}

// resumed reports whether o is the first record of its source after an end-of-input marker this
// process has seen, and forgets the marker (p.mu held).
func (p *processor) resumed(k clockKey, o fence.Origin) bool {
	last, ok := p.ends[k]
	if !ok || o.Offset <= last {
		return false
	}
	delete(p.ends, k)
	return true
}

func (p *processor) emit(ctx goka.Context, d Done) {
	o, err := fence.ParseOrigin(d.Origin)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
	}
	fence.Emit(ctx, p.journeys, d.Journey.UserID, &d.Journey, o)
}

func (p *processor) reject(ctx goka.Context, detail string, o fence.Origin, raw []byte) {
	outcome.DeadLetter(ctx, p.dead, Processor, event.ReasonUndecodable, detail, o, raw)
	p.obs.Observe(Processor, outcome.Rejected(event.ReasonUndecodable))
}

// New builds the processor for the raw partition counts sources (Run counts them); opts come
// after the cluster's (goka.WithTester in tests).
func New(cfg cluster.Config, sources Sources, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gg, err := Graph(cfg, sources)
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
// co-partitioned, and creates shopease.journeys and the table with their partition count
// (cluster.Config.EnsureOutputs, which waits until every partition has a leader). It returns the
// partition counts of the raw activity and transactions topics.
func EnsureOutputs(cfg cluster.Config) (Sources, error) {
	if err := cfg.Validate(); err != nil {
		return Sources{}, err
	}
	tm, err := cfg.TopicManager()
	if err != nil {
		return Sources{}, err
	}
	defer tm.Close()
	ns := cfg.Namespace
	var counts []int
	for _, raw := range []goka.Stream{ns.Stream(topology.Activity), ns.Stream(topology.Transactions)} {
		ps, err := tm.Partitions(string(raw))
		if err != nil {
			return Sources{}, fmt.Errorf("journeys: partitions of %s: %w", raw, err)
		}
		counts = append(counts, len(ps))
	}
	var parts []int
	for _, in := range []goka.Stream{topology.CleanActivity, topology.CleanTransactions} {
		name := string(ns.Stream(in))
		for deadline := time.Now().Add(inputTimeout); ; {
			ps, err := tm.Partitions(name)
			if err == nil {
				parts = append(parts, len(ps))
				break
			}
			if time.Now().After(deadline) {
				return Sources{}, fmt.Errorf("journeys: input %s missing after %s (its gateway creates it): %w", name, inputTimeout, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if parts[0] != parts[1] {
		return Sources{}, fmt.Errorf("%w: %s has %d partitions, %s %d", ErrNotCopartitioned,
			ns.Stream(topology.CleanActivity), parts[0], ns.Stream(topology.CleanTransactions), parts[1])
	}
	if err := cfg.EnsureOutputs(ns.Stream(topology.CleanActivity), []goka.Stream{ns.Stream(topology.Journeys)},
		[]goka.Table{ns.Table(Group)}); err != nil {
		return Sources{}, fmt.Errorf("journeys: %w", err)
	}
	return Sources{Activity: counts[0], Transactions: counts[1]}, nil
}

// ErrNotCopartitioned is returned when the joined inputs differ in partition count.
var ErrNotCopartitioned = errors.New("journeys: inputs not co-partitioned")

// inputTimeout bounds the wait for the gateways to create the inputs.
const inputTimeout = 30 * time.Second

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
	SignalDue    = "due"    // to a schedule: User's Order is due at At
	SignalPassed = "passed" // to a schedule: User's activity has passed Order's purchase + Bound
	SignalClock  = "clock"  // to a schedule: Source's activity has reached At
	SignalOrders = "orders" // to a schedule: Source has delivered purchase order Order
	SignalEnd    = "end"    // to a schedule: Source has delivered an end-of-input marker announcing Markers
	SignalFlush  = "flush"  // to a user: release Orders (one)
	// SignalReleased goes to a schedule: User has released Order (its flush arrived).
	SignalReleased = "released"
)

// Signal is a message of the processor's loop topic.
type Signal struct {
	Kind   string   `json:"kind"`
	User   string   `json:"user,omitempty"`   // due, passed, released: the user to flush
	Order  string   `json:"order,omitempty"`  // due, passed, released: the order; orders: the source's order
	Orders []string `json:"orders,omitempty"` // flush: the orders to release
	Source string   `json:"source,omitempty"` // clock, orders, end: the raw partition reporting
	// Markers (end) are the markers the marker announces: raw source → raw offset + 1.
	Markers map[string]int64 `json:"markers,omitempty"`
	// Next is the raw offset + 1 of the record that reports (clock, orders) or of the marker
	// (end); 0 in signals written before markers existed.
	Next int64     `json:"next,omitempty"`
	At   time.Time `json:"at"`
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
