package generate

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

// fakeClock moves time forward by exactly the duration asked for; past end it cancels the run
// and never fires again, so the last tick is always the one at end.
type fakeClock struct {
	now, end time.Time
	cancel   func()
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	if c.now.Add(d).After(c.end) {
		c.cancel()
		return nil
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

type simRecord struct {
	Dataset string
	Key     string
	Ev      any
}

func simulate(t *testing.T, cfg SimConfig, start time.Time, d time.Duration) ([]simRecord, map[time.Time]int, *Simulator) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: start, end: start.Add(d), cancel: cancel}
	var recs []simRecord
	perMinute := map[time.Time]int{}
	sink := func(_ context.Context, ds string, key []byte, ev any, ts time.Time) error {
		if !ts.Equal(clock.Now()) {
			t.Fatalf("event time %v, clock %v", ts, clock.Now())
		}
		recs = append(recs, simRecord{ds, string(key), ev})
		perMinute[ts.Truncate(time.Minute)]++
		return nil
	}
	sim, err := NewSimulator(cfg, sink, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return recs, perMinute, sim
}

// TestSimulatorRate runs five minutes under a fake clock: 50 events/s with a 10× spike in every
// second minute gives exact counts per minute (ticks of 100 ms; the tick at a minute's start
// belongs to that minute, so the first minute misses its first tick).
func TestSimulatorRate(t *testing.T) {
	cfg := DefaultSimConfig()
	cfg.Rate, cfg.SpikeEvery, cfg.SpikeFactor = 50, 2*time.Minute, 10
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	recs, perMinute, sim := simulate(t, cfg, start, 5*time.Minute)
	want := map[time.Time]int{
		start:                      2995,
		start.Add(time.Minute):     3000,
		start.Add(2 * time.Minute): 30000,
		start.Add(3 * time.Minute): 3000,
		start.Add(4 * time.Minute): 30000,
		start.Add(5 * time.Minute): 5,
	}
	same(t, "events per minute", perMinute, want)
	st := sim.Stats()
	if st.Activity+st.PurchaseLines != int64(len(recs)) || st.PurchaseLines < 100 || st.SpikeEvents < 50000 {
		t.Fatalf("stats %+v for %d records", st, len(recs))
	}
	lines := map[string]bool{}
	for _, r := range recs {
		switch ev := r.Ev.(type) {
		case *event.Activity:
			if r.Dataset != DatasetActivity || r.Key != ev.UserID || ev.UserID == "" || !ev.Type.Valid() {
				t.Fatalf("bad activity record %+v", r)
			}
		case *event.TransactionLine:
			if r.Dataset != DatasetTransactions || r.Key != ev.LineID || ev.Type != event.Purchase || ev.UnitPrice <= 0 || lines[ev.LineID] {
				t.Fatalf("bad transaction record %+v", r)
			}
			lines[ev.LineID] = true
		}
	}
}

// TestSimulatorDeterministic: the same config and clock give the same events.
func TestSimulatorDeterministic(t *testing.T) {
	cfg := DefaultSimConfig()
	start := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	hash := func() [32]byte {
		recs, _, _ := simulate(t, cfg, start, time.Minute)
		b, _ := json.Marshal(recs)
		return sha256.Sum256(b)
	}
	first, second := hash(), hash()
	if first != second {
		t.Fatal("two runs differ")
	}
}

func TestSimulatorSinkError(t *testing.T) {
	boom := errors.New("broker down")
	n := 0
	sim, err := NewSimulator(DefaultSimConfig(), func(context.Context, string, []byte, any, time.Time) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	}, WithClock(&fakeClock{now: time.Unix(0, 0), end: time.Unix(3600, 0), cancel: func() {}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background()); !errors.Is(err, boom) || n != 3 {
		t.Fatalf("Run = %v after %d events, want the sink's error after 3", err, n)
	}
}

func TestSimConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*SimConfig)
	}{
		{"zero rate", func(c *SimConfig) { c.Rate = 0 }},
		{"spike every 90s", func(c *SimConfig) { c.SpikeEvery = 90 * time.Second }},
		{"spike as long as its period", func(c *SimConfig) { c.SpikeLength = c.SpikeEvery }},
		{"weak spike", func(c *SimConfig) { c.SpikeFactor = 2 }},
		{"no users", func(c *SimConfig) { c.Users = 0 }},
	} {
		cfg := DefaultSimConfig()
		tc.edit(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrSimConfig) {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
	cfg := DefaultSimConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
