package realtime

import (
	"cmp"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/windows"
)

// Group is the processor group (before namespacing).
const Group = topology.RealtimeGroup

// Processor names the processor in outcome metrics (cluster.Config.Observer): every activity
// event read (a redelivery not again) is accepted, a duplicate or BeyondRetention. Purchase lines
// are not observed: the transactions gateway counts them.
const Processor = "realtime"

// BeyondRetention is the outcome of an activity event more than Settings.Retention behind its
// user's latest: not counted (shopease.late, marked dropped).
const BeyondRetention outcome.Outcome = "beyond_retention"

// The inputs, as notes and late records name them.
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
	// Windows: size (1 min) and grace (2 min). Expect is set from Sources.
	Windows windows.Config
	// Retention is how long (event time, behind a user's latest activity) a user's windows are
	// remembered, so that events out of order still count exactly; older events are dropped
	// (default 7 days).
	Retention time.Duration
	// Rule decides spikes (default DefaultSpikeRule).
	Rule SpikeRule
	// Partitions is the number of partitions of the inputs: the spike detector waits for every
	// one. Run reads it from the cluster; the goka tester has 1.
	Partitions int
	// Sources is the number of raw activity partitions (default Partitions): a partition's
	// windows close once every one has reported.
	Sources int
	// Sink receives windows and alerts (nil: none).
	Sink Sink
	// Logger (default cfg.Logger).
	Logger *slog.Logger
}

func (s *Settings) validate(cfg cluster.Config) error {
	if s.Partitions <= 0 {
		s.Partitions = 1
	}
	if s.Sources <= 0 {
		s.Sources = s.Partitions
	}
	s.Windows.Expect = s.Sources
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

// resendSpan is how many windows before its frontier a partition closes again the first time it
// is signalled in a process: a crash may have lost close notes of signals whose table write had
// landed (goka writes the table and the loop independently), and their windows lie within the
// progress of one commit interval — far less than a day of event time even in a fast replay.
const resendSpan = 24 * 60

// processor holds what the callbacks need.
type processor struct {
	s         Settings
	win       *windows.Windows
	retention int64 // ms
	alerts    goka.Stream
	late      goka.Stream
	obs       outcome.Observer
	undecoded atomic.Int64

	// In memory, per process (a restart starts afresh, which only repeats notes — they are
	// idempotent): the window each (partition, raw source) last reported to its partition's
	// clocks, the partition keys that have re-sent their recent closes, and the last offset seen
	// per input topic partition. goka also redelivers without a restart (a partition taken back
	// after a broker or session error, in the same processor): an offset not above the last one
	// seen is a redelivery, and it resets the bookkeeping as a restart would.
	mu     sync.Mutex
	clocks map[clockKey]int64
	resent map[string]bool
	seen   map[clockKey]int64
}

type clockKey struct {
	partition int32
	source    string
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
	return &processor{s: s, win: w, retention: s.Retention.Milliseconds(),
		alerts: cfg.Namespace.Stream(topology.Alerts), late: cfg.Namespace.Stream(topology.Late), obs: cfg.Observer,
		clocks: map[clockKey]int64{}, resent: map[string]bool{}, seen: map[clockKey]int64{}}, nil
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

// skip drops a clean record that does not decode. The gateways write only records that do, so
// this is a bug elsewhere; stopping the group over it would stop every metric.
func (p *processor) skip(ctx goka.Context, err error) {
	p.undecoded.Add(1)
	p.s.Logger.Error("realtime: undecodable clean record skipped", "topic", ctx.Topic(),
		"partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
}

// originLess orders origins by topic, partition and offset; an unparsable s orders last.
func originLess(o fence.Origin, s string) bool {
	b, err := fence.ParseOrigin(s)
	return err != nil || cmp.Or(strings.Compare(o.Topic, b.Topic), cmp.Compare(o.Partition, b.Partition),
		cmp.Compare(o.Offset, b.Offset)) < 0
}

func origin(ctx goka.Context) fence.Origin {
	o, err := fence.Of(ctx)
	if err != nil {
		o = fence.Origin{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset()}
	}
	return o
}

// onTransaction passes a purchase line straight to its minute: purchasers are a set there, so
// neither arrival order nor redelivery matters. Refunds and returns do not take part.
func (p *processor) onTransaction(ctx goka.Context, msg any) {
	if event.IsControl(ctx.Headers()) {
		return // an end-of-input marker (docs/formats.md): no event
	}
	raw, _ := msg.([]byte)
	l, err := codecs.DecodeTransactionLine(raw)
	if err != nil {
		p.skip(ctx, err)
		return
	}
	if l.Type != event.Purchase {
		return
	}
	ms := l.Time.UnixMilli()
	ctx.Loopback(minuteKey(ctx.Partition(), p.win.Start(ms)), &note{Kind: noteEvent, Input: inputPurchases,
		Origin: origin(ctx).String(), Time: ms, User: ctx.Key(), Part: ctx.Partition()})
}

// onActivity is the user stage: it decides whether this event makes its user active in its
// window (the user's first event there), passes the event to the partition's minute, and reports
// its source's progress to the partition's clocks.
func (p *processor) onActivity(ctx goka.Context, msg any) {
	if event.IsControl(ctx.Headers()) {
		return // an end-of-input marker (docs/formats.md): no event
	}
	raw, _ := msg.([]byte)
	a, err := codecs.DecodeActivity(raw)
	if err != nil {
		p.skip(ctx, err)
		return
	}
	o := origin(ctx)
	os := o.String()
	u := &User{}
	if v, ok := ctx.Value().(*Value); ok && v.User != nil {
		u = v.User
	}
	ms := a.Time.UnixMilli()
	start := p.win.Start(ms)
	id := eventHash(a.EventID)
	newActive, copied := false, false
	if u.Fence.Admit(o) {
		u.MaxA = max(u.MaxA, ms)
		if start >= u.MaxA-p.retention {
			// A copy of a counted event (same id, another origin: the history replayed again)
			// changes nothing. It cannot move MaxA either: its time is the counted event's.
			_, copied = u.sighting(start, id)
			if !copied {
				if u.Active == nil {
					u.Active = map[int64]string{}
				}
				first, ok := u.Active[start]
				newActive = !ok
				if !ok || originLess(o, first) {
					u.Active[start] = os
				}
				u.see(start, id, o)
			}
		}
		u.forget(u.MaxA - p.retention)
		ctx.SetValue(&Value{User: u})
		_, active := u.Active[start]
		switch {
		case copied:
			p.obs.Observe(Processor, outcome.Duplicate)
		case active:
			p.obs.Observe(Processor, outcome.Accepted)
		default:
			p.obs.Observe(Processor, BeyondRetention)
		}
	} else {
		fence.Keep(ctx, &Value{User: u}) // a redelivery
		// Only the origin that was counted sends its note again: a copy's note, once the
		// minute's fence is past it, would be counted. A window without the id is a row written
		// before ids were remembered: the note goes again as it did then.
		s, ok := u.sighting(start, id)
		copied = ok && !s.carriedBy(o)
	}
	// A redelivery sends the note again (the crash may have lost it), the same one: the user's
	// first event of the window is the one with the smallest origin. The source's clock ticks for
	// a copy too: windows close on the raw sources' progress, copies included.
	if first, ok := u.Active[start]; ok && !copied {
		ctx.Loopback(minuteKey(ctx.Partition(), start), &note{Kind: noteEvent, Input: inputActivity, Origin: os,
			Time: ms, Type: string(a.Type), User: ctx.Key(), NewActive: newActive || first == os, Part: ctx.Partition()})
	} else if !ok {
		fence.Emit(ctx, p.late, ctx.Key(), &LateEvent{User: ctx.Key(), Input: inputActivity, Type: string(a.Type),
			Time: ms, Window: start, Origin: os, Dropped: true}, o)
	}
	p.tick(ctx, o, start)
}

// redelivered records ctx's offset and reports whether its topic partition delivered it (or a
// later one) before in this process.
func (p *processor) redelivered(ctx goka.Context) bool {
	k := clockKey{ctx.Partition(), string(ctx.Topic())}
	p.mu.Lock()
	defer p.mu.Unlock()
	last, ok := p.seen[k]
	p.seen[k] = ctx.Offset()
	return ok && ctx.Offset() <= last
}

// tick reports the window the event's raw source has reached to the partition's clocks, once per
// source and window in a process.
func (p *processor) tick(ctx goka.Context, o fence.Origin, start int64) {
	k := clockKey{ctx.Partition(), o.Topic + "/" + strconv.Itoa(int(o.Partition))}
	again := p.redelivered(ctx)
	p.mu.Lock()
	if again {
		// A signal of this partition may have been lost with the first delivery: report afresh.
		for c := range p.clocks {
			if c.partition == k.partition {
				delete(p.clocks, c)
			}
		}
	}
	last, ok := p.clocks[k]
	send := !ok || start > last
	if send {
		p.clocks[k] = start
	}
	p.mu.Unlock()
	if send {
		ctx.Loopback(partKey(k.partition), &note{Kind: noteClock, Source: k.source, Start: start, Part: k.partition})
	}
}

// onNote dispatches a loopback note by the kind of its key.
func (p *processor) onNote(ctx goka.Context, msg any) {
	n, ok := msg.(*note)
	if !ok {
		return
	}
	key := ctx.Key()
	switch {
	case strings.HasPrefix(key, minuteKeyPrefix) && n.Kind == noteEvent:
		p.onMinuteEvent(ctx, n)
	case strings.HasPrefix(key, minuteKeyPrefix) && n.Kind == noteClose:
		p.onMinuteClose(ctx, n)
	case strings.HasPrefix(key, partKeyPrefix) && n.Kind == noteClock:
		p.onClock(ctx, n)
	case strings.HasPrefix(key, globalKeyPrefix) && n.Kind == noteReport:
		p.onReport(ctx, n)
	case key == spikesKey && (n.Kind == noteStart || n.Kind == noteComplete):
		p.onSpikes(ctx, n)
	}
}
