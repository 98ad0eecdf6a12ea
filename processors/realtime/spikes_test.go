package realtime

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
)

// TestSpikeRuleOnGeneratedTruth runs the default rule over the truth's per-minute activity (every
// minute of the history, empty ones as 0) of several generated histories: the minutes alerted on
// "events" are exactly the injected spikes, and no per-type alert falls outside them.
func TestSpikeRuleOnGeneratedTruth(t *testing.T) {
	presets := map[string]generate.Config{"tiny": generate.Tiny(), "small": generate.Small()}
	for name, cfg := range presets {
		t.Run(name, func(t *testing.T) {
			cfg.Dir = t.TempDir()
			truth, err := generate.Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			byMinute := map[time.Time]Counts{}
			for _, m := range truth.Minutes {
				byMinute[m.Minute.UTC()] = Counts{Events: m.ByType}
			}
			d := Detector{Rule: DefaultSpikeRule}
			var total, typed []time.Time
			for m := truth.Start; m.Before(truth.End); m = m.Add(time.Minute) {
				for _, a := range d.Observe(m, byMinute[m.UTC()]) {
					if a.Metric == "events" {
						total = append(total, a.Window)
					} else {
						typed = append(typed, a.Window)
					}
				}
			}
			var want []time.Time
			for _, s := range truth.Spikes {
				want = append(want, s.Minute.UTC())
			}
			if fmt.Sprint(total) != fmt.Sprint(want) {
				t.Errorf("alerts on events at %v, injected spikes %v", total, want)
			}
			for _, m := range typed {
				if !slices.Contains(want, m) {
					t.Errorf("per-type alert at %v, not a spike", m)
				}
			}
			t.Logf("%d spikes found, %d per-type alerts, max ordinary minute %d events", len(total), len(typed), truth.MaxOrdinaryMinuteEvents)
		})
	}
}

// TestSpikeStateJudgesCompleteMinutesInOrder: a minute over all partitions completes once each
// has reported it (once: a repeat adds nothing); the detector judges complete minutes in order
// from the latest partition start (earlier minutes are skipped: not every partition closes
// them), holds one that comes before an earlier minute, returns a judged minute's alerts when it
// comes again, and does not fold a spike minute into the baseline.
func TestSpikeStateJudgesCompleteMinutesInOrder(t *testing.T) {
	const size = int64(time.Minute / time.Millisecond)
	m := func(i int64) int64 { return t0.UnixMilli() + i*size }
	ev := func(n int64) map[string]int64 { return map[string]int64{"page_view": n} }

	g := &Global{Start: m(3)}
	for i, st := range []struct {
		part     int32
		complete bool
	}{{1, false}, {1, false}, {0, true}, {0, false}} {
		if got := g.report(st.part, ev(10), 2); got != st.complete {
			t.Errorf("global report %d: complete %v, want %v", i, got, st.complete)
		}
	}
	if fmt.Sprint(g.Counts.Events) != "map[page_view:20]" {
		t.Errorf("global minute counts %v, want page_view 20 (each partition once)", g.Counts.Events)
	}

	rule := SpikeRule{Alpha: 0.5, K: 2, M: 2, Floor: 10, WarmUp: 3}
	s := &SpikeState{Parts: 2, Detector: Detector{Rule: rule}}
	steps := []struct {
		start  bool // a partition's start, else a complete minute
		part   int32
		minute int64
		events int64
		alerts string
		done   string
	}{
		{true, 0, m(0), 0, "[]", "-"},
		{false, 0, m(0), 9, "[]", "-"}, // before partition 1's start: skipped
		{false, 0, m(2), 3, "[]", "-"},
		{true, 1, m(1), 0, "[]", "10:01"},
		{false, 0, m(1), 3, "[]", "10:03"},
		{false, 0, m(4), 3, "[]", "10:03"}, // after a minute not complete yet: held
		{false, 0, m(3), 3, "[]", "10:05"},
		{false, 0, m(5), 30, "[events@10:05 events:page_view@10:05]", "10:06"},
		{false, 0, m(5), 30, "[events@10:05 events:page_view@10:05]", "10:06"}, // again
	}
	for i, st := range steps {
		var alerts []Alert
		if st.start {
			alerts = s.start(st.part, st.minute, size)
		} else {
			judged, again := s.complete(st.minute, Counts{Events: ev(st.events)}, size)
			alerts = append(judged, again...)
		}
		var got []string
		for _, a := range alerts {
			got = append(got, a.Metric+"@"+a.Window.Format("15:04"))
		}
		if fmt.Sprint(got) != st.alerts && !(len(got) == 0 && st.alerts == "[]") {
			t.Errorf("step %d: alerts %v, want %s", i, got, st.alerts)
		}
		done := "-"
		if s.Started {
			done = time.UnixMilli(s.Done).UTC().Format("15:04")
		}
		if done != st.done {
			t.Errorf("step %d: done %s, want %s", i, done, st.done)
		}
	}
	if b := s.Detector.Baselines["events"]; b == nil || b.N != 4 {
		t.Errorf("events baseline %+v: the spike minute must not be folded in", b)
	}
}
