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
