package realtime

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/windows"
)

// Group is the processor group (before namespacing).
const Group = topology.RealtimeGroup

// The inputs, as the windows' watermark names them.
const (
	inputActivity  = "activity"
	inputPurchases = "purchases"
)

// Sink receives every change of a window's per-partition counts and every alert; the Redis sink
// is one (see NewRedisSink). Counts only grow, so a sink may keep the largest value it saw.
type Sink interface {
	SetWindow(start time.Time, part int32, c Counts)
	SetAlert(a Alert)
}

// Settings are the processor's own settings; zero values mean the defaults.
type Settings struct {
	// Windows: size (1 min), grace (2 min), idle (1 min) and clock. Expect is set by New.
	Windows windows.Config
	// Retention is how long (event time, behind a user's latest event) a user's windows are
	// remembered, so that late events still count exactly; older events are dropped (default 7 days).
	Retention time.Duration
	// Rule decides spikes (default DefaultSpikeRule).
	Rule SpikeRule
	// Partitions is the number of partitions of the inputs and of the raw activity topic; windows
	// wait for every raw activity partition, the spike detector for every partition. Run reads it
	// from the cluster; the goka tester has 1.
	Partitions int
	// Sink receives windows and alerts (nil: none).
	Sink Sink
	// Logger (default cfg.Logger).
	Logger *slog.Logger
}

func (s *Settings) validate(cfg cluster.Config) error {
	if s.Partitions <= 0 {
		s.Partitions = 1
	}
	// Every raw activity and transactions partition must have been heard from before windows
	// close (within the first Idle of the process; windows.Config.Expect): the gateways read them
	// at their own pace, and a purchase source not heard from yet cannot hold the watermark back,
	// so its purchases arrived late — how many depended on how the gateways interleaved (34–87
	// late records in three killed runs of systemtest.TestKillRestartIsExact without it, 1 and
	// 23 in two with).
	// A source that never comes cannot hold windows open for long: MaxOpen bounds them.
	s.Windows.Expect = map[string]int{inputActivity: s.Partitions, inputPurchases: s.Partitions}
	if s.Windows.MaxOpen == 0 {
		// A day of one-minute windows. A replayed history makes the activity gateway's partitions
		// drift apart by hours of event time; windows closed before a lagging partition's events
		// arrive still count them (late), but spikes would be judged on part of the minute. With
		// two hours, three of the four spikes of generate.Small were missed; with a day all four
		// are found. The cost: the partition's state, rewritten on every event, grows with the lag.
		s.Windows.MaxOpen = 24 * 60
	}
	if err := s.Windows.Validate(); err != nil {
		return fmt.Errorf("realtime: %w", err)
	}
	if s.Retention == 0 {
		s.Retention = 7 * 24 * time.Hour
	}
	if s.Retention < s.Windows.Grace+s.Windows.Size {
		return fmt.Errorf("realtime: %w: retention %v is shorter than grace + size", windows.ErrConfig, s.Retention)
	}
	if s.Rule == (SpikeRule{}) {
		s.Rule = DefaultSpikeRule
	}
	if s.Logger == nil {
		s.Logger = cfg.Logger
	}
	return nil
}

// processor holds what the callbacks need.
type processor struct {
	s         Settings
	win       *windows.Windows
	size      int64 // ms
	retention int64 // ms
	alerts    goka.Stream
	late      goka.Stream
	undecoded atomic.Int64
}

// Graph defines the processor in cfg's namespace.
func Graph(cfg cluster.Config, s Settings) (*goka.GroupGraph, error) {
	p, err := newProcessor(cfg, s)
	if err != nil {
		return nil, err
	}
	return p.graph(cfg), nil
}

func newProcessor(cfg cluster.Config, s Settings) (*processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := s.validate(cfg); err != nil {
		return nil, err
	}
	w, err := windows.New(s.Windows)
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}
	return &processor{s: s, win: w, size: s.Windows.Size.Milliseconds(), retention: s.Retention.Milliseconds(),
		alerts: cfg.Namespace.Stream(topology.Alerts), late: cfg.Namespace.Stream(topology.Late)}, nil
}

func (p *processor) graph(cfg cluster.Config) *goka.GroupGraph {
	ns := cfg.Namespace
	return goka.DefineGroup(ns.Group(Group),
		goka.Input(ns.Stream(topology.CleanActivity), new(codec.Bytes), p.onActivity),
		goka.Input(ns.Stream(topology.CleanTransactions), new(codec.Bytes), p.onTransaction),
		goka.Loop(noteCodec{}, p.onNote),
		goka.Persist(ValueCodec{}),
		goka.Output(p.alerts, AlertCodec{}),
		goka.Output(p.late, LateCodec{}),
	)
}

func (p *processor) onActivity(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	a, err := codecs.DecodeActivity(raw)
	if err != nil {
		p.skip(ctx, err)
		return
	}
	p.onEvent(ctx, inputActivity, string(a.Type), a.Time)
}

func (p *processor) onTransaction(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	l, err := codecs.DecodeTransactionLine(raw)
	if err != nil {
		p.skip(ctx, err)
		return
	}
	// Only purchase lines make a purchaser; refunds and returns do not take part.
	if l.Type == event.Purchase {
		p.onEvent(ctx, inputPurchases, string(l.Type), l.Time)
	}
}

// skip drops a clean record that does not decode. The gateways write only records that do, so
// this is a bug elsewhere; stopping the group over it would stop every metric.
func (p *processor) skip(ctx goka.Context, err error) {
	p.undecoded.Add(1)
	p.s.Logger.Error("realtime: undecodable clean record skipped", "topic", ctx.Topic(),
		"partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
}

// onEvent is the user stage: it decides whether this event is the one that makes its user count
// as active (or purchasing) in its window, and passes the event to the partition's windows.
func (p *processor) onEvent(ctx goka.Context, input, typ string, t time.Time) {
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
	}
	u := &User{}
	if v, ok := ctx.Value().(*Value); ok && v.User != nil {
		u = v.User
	}
	ms := t.UnixMilli()
	start := p.win.Start(t)
	origin := o.String()
	n := &note{Kind: noteEvent, Origin: origin, Input: input, Time: ms, Type: typ, User: ctx.Key(),
		Part: ctx.Partition()}
	if u.Fence.Admit(o) {
		horizon := p.advance(u, input, ms)
		if start < horizon {
			n.Expired = true
		} else {
			if u.Windows == nil {
				u.Windows = map[int64]*UserMinute{}
			}
			um := u.Windows[start]
			if um == nil {
				um = &UserMinute{}
				u.Windows[start] = um
			}
			if input == inputActivity && um.A == "" {
				um.A = origin
			}
			if input == inputPurchases && um.P == "" {
				um.P = origin
			}
		}
		p.forget(u)
		ctx.SetValue(&Value{User: u})
	} else if um := u.Windows[start]; um == nil || (input == inputActivity && um.A == "") || (input == inputPurchases && um.P == "") {
		// A redelivery whose window is gone: the first delivery was expired too, or its note was
		// applied long ago; either way the partition's fence decides.
		n.Expired = true
	}
	if um := u.Windows[start]; um != nil && !n.Expired {
		n.NewActive = input == inputActivity && um.A == origin
		n.NewPurchaser = input == inputPurchases && um.P == origin
	}
	ctx.Loopback(partKey(ctx.Partition()), n)
}

// advance moves the user's latest time of input and returns the input's horizon: windows starting
// before it are forgotten.
func (p *processor) advance(u *User, input string, ms int64) int64 {
	if input == inputActivity {
		u.MaxA = max(u.MaxA, ms)
		return u.MaxA - p.retention
	}
	u.MaxP = max(u.MaxP, ms)
	return u.MaxP - p.retention
}

// forget drops the origins older than their input's horizon, and windows left with none.
func (p *processor) forget(u *User) {
	for s, um := range u.Windows {
		if s < u.MaxA-p.retention {
			um.A = ""
		}
		if s < u.MaxP-p.retention {
			um.P = ""
		}
		if um.A == "" && um.P == "" {
			delete(u.Windows, s)
		}
	}
}

func partKey(p int32) string       { return partKeyPrefix + strconv.Itoa(int(p)) }
func minuteKey(start int64) string { return minuteKeyPrefix + strconv.FormatInt(start, 10) }

// onNote dispatches a loopback note by the kind of its key.
func (p *processor) onNote(ctx goka.Context, msg any) {
	n, ok := msg.(*note)
	if !ok {
		return
	}
	key := ctx.Key()
	switch {
	case strings.HasPrefix(key, partKeyPrefix) && n.Kind == noteEvent:
		p.onPartEvent(ctx, n)
	case strings.HasPrefix(key, minuteKeyPrefix) && (n.Kind == noteClose || n.Kind == noteLate):
		p.onMinute(ctx, n)
	case key == spikesKey && n.Kind == noteClosed:
		p.onClosed(ctx, n)
	}
}

// contribution is what one event adds to its window.
func contribution(n *note) Counts {
	var c Counts
	if n.NewActive {
		c.Active = 1
	}
	if n.NewPurchaser {
		c.Purchasers = 1
	}
	if n.Input == inputActivity {
		c.Events = map[string]int64{n.Type: 1}
	}
	return c
}

// onPartEvent is the partition stage: the event joins its open window, or is late; then every
// window the watermark has passed closes.
func (p *processor) onPartEvent(ctx goka.Context, n *note) {
	o, err := fence.ParseOrigin(n.Origin)
	if err != nil {
		return
	}
	v := &Part{}
	if old, ok := ctx.Value().(*Value); ok && old.Part != nil {
		v = old.Part
	}
	v.Key = ctx.Key()
	start, agg, verdict := windows.Admit(p.win, &v.State, n.Input, o, time.UnixMilli(n.Time))
	switch {
	case verdict == windows.Duplicate:
		return
	case n.Expired:
		if verdict == windows.Accepted && agg.Events == nil && agg.Active == 0 && agg.Purchasers == 0 {
			delete(v.Open, start)
		}
		v.Expired++
		p.emitLate(ctx, n, start, true)
	case verdict == windows.Accepted:
		agg.add(contribution(n))
		p.setWindow(start, n.Part, *agg)
	case verdict == windows.Late:
		p.emitLate(ctx, n, start, false)
		ln := &note{Kind: noteLate, Origin: n.Origin, Part: n.Part, Start: start, Counts: contribution(n)}
		ctx.Loopback(minuteKey(start), ln)
	}
	closed, _ := windows.Close(p.win, &v.State)
	for _, c := range closed {
		ctx.Loopback(minuteKey(c.Start), &note{Kind: noteClose, Part: n.Part, Start: c.Start, Counts: *c.Agg})
	}
	// One report per closed window, its frontier the window's end: how far the watermark jumped
	// depends on arrival, these notes do not, so the loop topic is the same in every run. Empty
	// minutes in between reach the detector with the next window's report.
	for _, c := range closed {
		ctx.Loopback(spikesKey, &note{Kind: noteClosed, Part: n.Part, Parts: p.s.Partitions,
			Frontier: c.Start + p.size, Closed: map[int64]Counts{c.Start: {Events: c.Agg.Events}}})
	}
	ctx.SetValue(&Value{Part: v})
}

func (p *processor) emitLate(ctx goka.Context, n *note, start int64, dropped bool) {
	o, _ := fence.ParseOrigin(n.Origin)
	fence.Emit(ctx, p.late, n.User, &LateEvent{User: n.User, Input: n.Input, Type: n.Type, Time: n.Time,
		Window: start, Origin: n.Origin, Dropped: dropped}, o)
}

func (p *processor) setWindow(start int64, part int32, c Counts) {
	if p.s.Sink != nil {
		p.s.Sink.SetWindow(time.UnixMilli(start).UTC(), part, c.clone())
	}
}

// onMinute keeps a closed window's per-partition counts: the counts at close, and late events on
// top (each once, by origin).
func (p *processor) onMinute(ctx goka.Context, n *note) {
	m := &Minute{Start: n.Start}
	if old, ok := ctx.Value().(*Value); ok && old.Minute != nil {
		m = old.Minute
	}
	if m.Parts == nil {
		m.Parts = map[int32]*PartMinute{}
	}
	pm := m.Parts[n.Part]
	if pm == nil {
		pm = &PartMinute{}
		m.Parts[n.Part] = pm
	}
	switch n.Kind {
	case noteClose:
		if pm.Closed {
			return // a close sent again after a crash
		}
		pm.Closed, pm.Base = true, n.Counts
	case noteLate:
		o, err := fence.ParseOrigin(n.Origin)
		if err != nil || !pm.Fence.Admit(o) {
			return
		}
		pm.Late.add(n.Counts)
	}
	p.setWindow(n.Start, n.Part, pm.Sum())
	ctx.SetValue(&Value{Minute: m})
}

// onClosed feeds the spike detector with a partition's newly closed windows.
func (p *processor) onClosed(ctx goka.Context, n *note) {
	s := &SpikeState{}
	if old, ok := ctx.Value().(*Value); ok && old.Spikes != nil {
		s = old.Spikes
	}
	s.Detector.Rule = p.s.Rule
	before := s.Frontiers[n.Part]
	alerts := s.apply(n.Part, n.Parts, n.Frontier, n.Closed, p.size)
	if s.Frontiers[n.Part] == before {
		return
	}
	for _, a := range alerts {
		ctx.Emit(p.alerts, a.Metric, a)
		if p.s.Sink != nil {
			p.s.Sink.SetAlert(a)
		}
	}
	ctx.SetValue(&Value{Spikes: s})
}
