package realtime

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// SpikeRule decides which minutes are activity spikes. Each metric — all activity events, and
// the events of each type — is a series of per-minute counts over every partition, in minute
// order, minutes without events counting as 0. For each series the rule keeps an exponentially
// weighted mean μ and variance σ² (weight Alpha for the newest minute). A minute is a spike when,
// after WarmUp minutes of its series,
//
//	observed ≥ μ + K·σ  and  observed ≥ M·μ  and  observed ≥ Floor
//
// where μ and σ are the baseline before the minute. A spike minute does not update the baseline,
// so a burst does not raise the bar for the next one. The floor keeps near-empty series (night
// hours, rare types) from alerting on a handful of events. The alert carries observed, expected
// (μ) and score ((observed − μ)/σ, with σ at least 1).
type SpikeRule struct {
	Alpha  float64 `json:"alpha"`
	K      float64 `json:"k"`
	M      float64 `json:"m"`
	Floor  int64   `json:"floor"`
	WarmUp int     `json:"warm_up"`
}

// DefaultSpikeRule: a baseline of roughly the last 20 minutes, 4 σ above it, 3 × its mean and at
// least 50 events, after an hour of warm-up. On generated histories (spikes inject ≥ 100 events,
// ordinary minutes stay far below: generate.Truth.MaxOrdinaryMinuteEvents) it finds exactly the
// injected minutes (TestSpikeRuleOnGeneratedTruth).
var DefaultSpikeRule = SpikeRule{Alpha: 0.1, K: 4, M: 3, Floor: 50, WarmUp: 60}

// Alert is a spike alert: the minute, the metric ("events" or "events:<type>"), what was seen,
// what the baseline expected and how many σ above it that is.
type Alert struct {
	Window   time.Time `json:"window"`
	Metric   string    `json:"metric"`
	Observed int64     `json:"observed"`
	Expected float64   `json:"expected"`
	Score    float64   `json:"score"`
}

// ID names the alert uniquely (metric and minute), so consumers of the at-least-once alerts
// topic and the Redis alert set can drop copies.
func (a Alert) ID() string { return a.Metric + "@" + a.Window.UTC().Format(time.RFC3339) }

// AlertCodec encodes Alert as JSON.
type AlertCodec struct{}

// Encode encodes an Alert or *Alert.
func (AlertCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode alert: %w", err)
	}
	return b, nil
}

// Decode decodes an *Alert.
func (AlertCodec) Decode(b []byte) (any, error) {
	a := &Alert{}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("realtime: decode alert: %w", err)
	}
	return a, nil
}

// Baseline is one series' state.
type Baseline struct {
	N    int     `json:"n"` // minutes observed
	Mean float64 `json:"mean"`
	Var  float64 `json:"var"`
}

// observe judges x against the baseline and, unless it is a spike, folds it in.
func (r SpikeRule) observe(b *Baseline, x int64) (spike bool, expected, score float64) {
	mean, sd := b.Mean, math.Sqrt(b.Var)
	fx := float64(x)
	spike = b.N >= r.WarmUp && fx >= mean+r.K*sd && fx >= r.M*mean && x >= r.Floor
	score = (fx - mean) / max(sd, 1)
	if !spike {
		d := fx - mean
		if b.N == 0 {
			b.Mean, b.Var = fx, 0
		} else {
			b.Mean += r.Alpha * d
			b.Var = (1 - r.Alpha) * (b.Var + r.Alpha*d*d)
		}
		b.N++
	}
	return spike, mean, score
}

// metrics lists the series a minute feeds: the total and one per activity type.
func metrics(c Counts) map[string]int64 {
	m := map[string]int64{"events": c.Total()}
	for t, n := range c.Events {
		m["events:"+t] = n
	}
	return m
}

// Detector runs the rule over a sequence of complete minutes. Series start at their first
// non-zero minute, and types never seen before count as 0 in every earlier minute.
type Detector struct {
	Rule      SpikeRule            `json:"rule"`
	Baselines map[string]*Baseline `json:"baselines,omitempty"`
}

// Observe judges one complete minute.
func (d *Detector) Observe(start time.Time, c Counts) []Alert {
	if d.Baselines == nil {
		d.Baselines = map[string]*Baseline{}
	}
	ms := metrics(c)
	for name := range d.Baselines {
		if _, ok := ms[name]; !ok {
			ms[name] = 0
		}
	}
	names := make([]string, 0, len(ms))
	for name := range ms {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Alert
	for _, name := range names {
		x := ms[name]
		b := d.Baselines[name]
		if b == nil {
			if x == 0 {
				continue
			}
			b = &Baseline{}
			d.Baselines[name] = b
		}
		if spike, exp, score := d.Rule.observe(b, x); spike {
			out = append(out, Alert{Window: start.UTC(), Metric: name, Observed: x,
				Expected: math.Round(exp*100) / 100, Score: math.Round(score*100) / 100})
		}
	}
	return out
}

// maxRecentAlerts bounds the alerts SpikeState keeps for rebuilding Redis.
const maxRecentAlerts = 1000

// Global is one minute over all partitions: which partitions have closed it (reported) and
// their activity summed; complete once every partition has.
type Global struct {
	Start    int64   `json:"start"`
	Parts    []int32 `json:"parts"` // sorted
	Counts   Counts  `json:"counts"`
	Complete bool    `json:"complete,omitempty"`
}

// report adds partition p's activity once; it reports whether the minute just became complete.
func (g *Global) report(p int32, events map[string]int64, parts int) bool {
	i, found := slices.BinarySearch(g.Parts, p)
	if found {
		return false
	}
	g.Parts = slices.Insert(g.Parts, i, p)
	g.Counts.add(Counts{Events: events})
	if len(g.Parts) >= parts && !g.Complete {
		g.Complete = true
		return true
	}
	return false
}

// SpikeState is the detector over all partitions. It judges complete minutes (Global) in minute
// order, from the latest of the partitions' first closed windows (Starts: from there on every
// partition closes every minute, empty ones included), so what is judged depends on the minutes'
// content only, never on which partition closes first. Ready holds complete minutes that came
// before an earlier one.
type SpikeState struct {
	Parts    int             `json:"parts"`
	Starts   map[int32]int64 `json:"starts,omitempty"`
	Ready    readyMinutes    `json:"ready,omitzero"`
	Started  bool            `json:"started,omitempty"`
	Done     int64           `json:"done"` // minutes before it are judged or skipped (Unix ms)
	Detector Detector        `json:"detector"`
	Alerts   []Alert         `json:"alerts,omitempty"`
}

// start records partition p's first closed window (the first report counts; it never changes)
// and judges what is complete.
func (s *SpikeState) start(p int32, start, size int64) []Alert {
	if s.Starts == nil {
		s.Starts = map[int32]int64{}
	}
	if _, ok := s.Starts[p]; !ok {
		s.Starts[p] = start
	}
	return s.judge(size)
}

// complete records a complete minute and judges what can be. A minute already judged (sent
// again after a crash) returns its alerts, so that alerts a crash lost are emitted again.
func (s *SpikeState) complete(start int64, c Counts, size int64) (judged, again []Alert) {
	if s.Started && start < s.Done {
		for _, a := range s.Alerts {
			if a.Window.UnixMilli() == start {
				again = append(again, a)
			}
		}
		return nil, again
	}
	s.Ready.put(start, c.Events)
	return s.judge(size), nil
}

// judge observes every complete minute from Done on, in order.
func (s *SpikeState) judge(size int64) []Alert {
	if len(s.Starts) < s.Parts {
		return nil
	}
	if !s.Started {
		s.Done = int64(math.MinInt64)
		for _, st := range s.Starts {
			s.Done = max(s.Done, st)
		}
		s.Started = true
		s.Ready.dropBefore(s.Done)
	}
	var out []Alert
	for {
		c, ok := s.Ready.take(s.Done)
		if !ok {
			break
		}
		out = append(out, s.Detector.Observe(time.UnixMilli(s.Done), c)...)
		s.Done += size
	}
	s.Alerts = append(s.Alerts, out...)
	if n := len(s.Alerts) - maxRecentAlerts; n > 0 {
		s.Alerts = slices.Delete(s.Alerts, 0, n)
	}
	return out
}
