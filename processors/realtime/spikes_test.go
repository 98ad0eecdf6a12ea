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

// TestSpikeStateWaitsForEveryPartition: a minute is judged only once both partitions have closed
// it, their counts add up, a repeated or older frontier changes nothing, and a spike minute is not
// folded into the baseline.
func TestSpikeStateWaitsForEveryPartition(t *testing.T) {
	const size = int64(time.Minute / time.Millisecond)
	rule := SpikeRule{Alpha: 0.5, K: 2, M: 2, Floor: 10, WarmUp: 3}
	s := &SpikeState{Detector: Detector{Rule: rule}}
	m := func(i int64) int64 { return t0.UnixMilli() + i*size }
	ev := func(n int64) Counts { return Counts{Events: map[string]int64{"page_view": n}} }
	steps := []struct {
		part     int32
		frontier int64
		closed   map[int64]Counts
		alerts   string
		done     int64
	}{
		{0, m(4), map[int64]Counts{m(0): ev(2), m(1): ev(2), m(2): ev(2), m(3): ev(20)}, "[]", 0},
		{1, m(3), map[int64]Counts{m(0): ev(1), m(1): ev(1), m(2): ev(1)}, "[]", m(3)},
		{1, m(3), map[int64]Counts{m(0): ev(1)}, "[]", m(3)}, // redelivered: no double count
		{1, m(4), map[int64]Counts{m(3): ev(3)}, "[events@10:03 events:page_view@10:03]", m(4)},
		{0, m(2), nil, "[]", m(4)}, // older frontier
		{0, m(5), map[int64]Counts{m(4): ev(3)}, "[]", m(4)},
		{1, m(5), nil, "[]", m(5)},
	}
	for i, st := range steps {
		var got []string
		for _, a := range s.apply(st.part, 2, st.frontier, st.closed, size) {
			got = append(got, a.Metric+"@"+a.Window.Format("15:04"))
		}
		if fmt.Sprint(got) != st.alerts && !(len(got) == 0 && st.alerts == "[]") {
			t.Errorf("step %d: alerts %v, want %s", i, got, st.alerts)
		}
		if s.Done != st.done {
			t.Errorf("step %d: done %v, want %v", i, time.UnixMilli(s.Done).UTC(), time.UnixMilli(st.done).UTC())
		}
	}
	if b := s.Detector.Baselines["events"]; b == nil || b.N != 4 {
		t.Errorf("events baseline %+v: the spike minute must not be folded in", b)
	}
}
