package realtime

import (
	"maps"
	"time"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors/fence"
)

func minuteOf(ctx goka.Context, n *note) *Minute {
	if v, ok := ctx.Value().(*Value); ok && v.Minute != nil {
		return v.Minute
	}
	return &Minute{Part: n.Part, Start: n.Start}
}

// onMinuteEvent counts one event in its partition's minute: a purchaser joins the set; an
// activity event is counted once (fence), and late once the minute has closed.
func (p *processor) onMinuteEvent(ctx goka.Context, n *note) {
	m := minuteOf(ctx, n)
	m.Start = p.win.Start(n.Time)
	if n.Input == inputPurchases {
		m.addBuyer(n.User)
		p.keep(ctx, m)
		return
	}
	o, err := fence.ParseOrigin(n.Origin)
	if err != nil {
		return
	}
	if !m.Fence.Admit(o) {
		for _, lo := range m.LateOrigins {
			if lo == n.Origin {
				p.emitLate(ctx, n, m.Start)
			}
		}
		p.keep(ctx, m)
		return
	}
	if m.Events == nil {
		m.Events = map[string]int64{}
	}
	m.Events[n.Type]++
	if n.NewActive {
		m.Active++
	}
	if m.Closed {
		m.Late++
		if len(m.LateOrigins) < maxLateOrigins {
			m.LateOrigins = append(m.LateOrigins, n.Origin)
		}
		p.emitLate(ctx, n, m.Start)
	}
	ctx.SetValue(&Value{Minute: m})
	p.setWindow(m)
}

// keep writes a minute that a note found applied before (or changed without a new origin: a
// purchaser already in the set) to the table and the sink again. After a SIGKILL the local table
// can hold a write that neither the changelog nor Redis got: RunWith rebuilds Redis from the
// changelog, so only the redelivered note can put the write's counts into Redis (fence.Keep puts
// it into the changelog). The sink keeps the largest counts, so sending them again is harmless.
func (p *processor) keep(ctx goka.Context, m *Minute) {
	fence.Keep(ctx, &Value{Minute: m})
	p.setWindow(m)
}

func (p *processor) emitLate(ctx goka.Context, n *note, start int64) {
	o, _ := fence.ParseOrigin(n.Origin)
	fence.Emit(ctx, p.late, n.User, &LateEvent{User: n.User, Input: n.Input, Type: n.Type, Time: n.Time,
		Window: start, Origin: n.Origin}, o)
}

func (p *processor) setWindow(m *Minute) {
	if p.s.Sink != nil {
		p.s.Sink.SetWindow(time.UnixMilli(m.Start).UTC(), m.Part, m.Counts())
	}
}

// onMinuteClose closes the partition's minute: its activity so far is final for the spike
// detector, which gets it in a report (again on a repeated close: the crash may have lost it).
func (p *processor) onMinuteClose(ctx goka.Context, n *note) {
	m := minuteOf(ctx, n)
	if !m.Closed {
		m.Closed, m.OnTime = true, maps.Clone(m.Events)
	}
	fence.Keep(ctx, &Value{Minute: m})
	ctx.Loopback(globalKey(m.Start), &note{Kind: noteReport, Part: m.Part, Start: m.Start, Events: m.OnTime})
}

// onClock moves a partition's source clocks and closes every window the watermark has passed.
// The first signal a partition gets in a process, and a redelivered one, closes its last
// resendSpan windows again: the first delivery's closes may have been lost.
func (p *processor) onClock(ctx goka.Context, n *note) {
	v := &Part{}
	if old, ok := ctx.Value().(*Value); ok && old.Part != nil {
		v = old.Part
	}
	redelivered := p.redelivered(ctx)
	p.mu.Lock()
	again := redelivered || !p.resent[ctx.Key()]
	p.resent[ctx.Key()] = true
	p.mu.Unlock()
	if again && v.Opened {
		ctx.Loopback(spikesKey, &note{Kind: noteStart, Part: n.Part, Start: v.Start})
		size := p.win.Size()
		for s := max(v.Start, v.Frontier-resendSpan*size); s < v.Frontier; s += size {
			ctx.Loopback(minuteKey(n.Part, s), &note{Kind: noteClose, Part: n.Part, Start: s})
		}
	}
	if !p.win.Advance(&v.Clocks, n.Source, n.Start) {
		fence.Keep(ctx, &Value{Part: v})
		return
	}
	from, to, opened := p.win.Close(&v.Clocks)
	if opened {
		ctx.Loopback(spikesKey, &note{Kind: noteStart, Part: n.Part, Start: v.Start})
	}
	for s := from; s < to; s += p.win.Size() {
		ctx.Loopback(minuteKey(n.Part, s), &note{Kind: noteClose, Part: n.Part, Start: s})
	}
	ctx.SetValue(&Value{Part: v})
}

// onReport adds a partition's report to the minute over all partitions; once every partition
// has reported, the minute goes to the spike detector (again on a repeated report: the crash may
// have lost it).
func (p *processor) onReport(ctx goka.Context, n *note) {
	g := &Global{Start: n.Start}
	if old, ok := ctx.Value().(*Value); ok && old.Global != nil {
		g = old.Global
	}
	complete := g.report(n.Part, n.Events, p.s.Partitions)
	fence.Keep(ctx, &Value{Global: g})
	if !complete && !g.Complete {
		return
	}
	ctx.Loopback(spikesKey, &note{Kind: noteComplete, Start: g.Start, Events: g.Counts.Events})
}

// onSpikes feeds the spike detector.
func (p *processor) onSpikes(ctx goka.Context, n *note) {
	s := &SpikeState{}
	if old, ok := ctx.Value().(*Value); ok && old.Spikes != nil {
		s = old.Spikes
	}
	s.Parts = p.s.Partitions
	s.Detector.Rule = p.s.Rule
	var alerts, again []Alert
	if n.Kind == noteStart {
		alerts = s.start(n.Part, n.Start, p.win.Size())
	} else {
		alerts, again = s.complete(n.Start, Counts{Events: n.Events}, p.win.Size())
	}
	for _, a := range append(alerts, again...) {
		ctx.Emit(p.alerts, a.Metric, a)
		if p.s.Sink != nil {
			p.s.Sink.SetAlert(a)
		}
	}
	fence.Keep(ctx, &Value{Spikes: s})
}
