package generate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/shopease/shopease/event"
)

// Sink receives every simulated event: dataset is DatasetActivity or DatasetTransactions, key the
// raw topic's key (the raw user id for activity, the line id for transactions, as docs/formats.md
// says), ev an *event.Activity or *event.TransactionLine, ts its event time. A Sink error stops
// the simulator. The integrator connects it to the Kafka producer.
type Sink func(ctx context.Context, dataset string, key []byte, ev any, ts time.Time) error

// Clock is the simulator's time source; tests pass a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now().UTC() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// ErrSimConfig is returned (wrapped, naming the field) for an unusable SimConfig.
var ErrSimConfig = errors.New("generate: invalid simulator config")

// SimConfig describes a live simulation.
type SimConfig struct {
	Seed     uint64
	Rate     float64 // events per second (activity events and purchase lines together)
	Users    int
	Products int
	// Sessions is the number of sessions open at once; their events interleave.
	Sessions int
	// SpikeEvery puts a spike at every SpikeEvery-th whole minute after the start (0: no spikes);
	// a whole number of minutes.
	SpikeEvery time.Duration
	// SpikeLength is how long a spike lasts (a whole number of minutes, default 1 min).
	SpikeLength time.Duration
	// SpikeFactor multiplies the rate during a spike (≥ 5); the extra events are short visits of
	// many users.
	SpikeFactor float64
	// Tick is how often events are released (default 100 ms); all events of a tick carry its time.
	Tick time.Duration
}

// DefaultSimConfig is 200 events/s with a one-minute spike of 10× every 5 minutes.
func DefaultSimConfig() SimConfig {
	return SimConfig{Seed: 1, Rate: 200, Users: 5000, Products: 200, Sessions: 300,
		SpikeEvery: 5 * time.Minute, SpikeLength: time.Minute, SpikeFactor: 10, Tick: 100 * time.Millisecond}
}

// Validate reports the first unusable field.
func (c *SimConfig) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s: %s", ErrSimConfig, field, why) }
	switch {
	case !(c.Rate > 0 && c.Rate <= 1e6):
		return bad("Rate", "must be within (0, 1e6] events/s")
	case c.Users < 10:
		return bad("Users", "must be ≥ 10")
	case c.Products < 10 || c.Products > 999_999:
		return bad("Products", "must be within 10..999999")
	case c.Sessions < 1:
		return bad("Sessions", "must be ≥ 1")
	case c.SpikeEvery < 0 || c.SpikeEvery%time.Minute != 0:
		return bad("SpikeEvery", "must be a whole number of minutes")
	case c.SpikeEvery > 0 && (c.SpikeLength <= 0 || c.SpikeLength%time.Minute != 0 || c.SpikeLength >= c.SpikeEvery):
		return bad("SpikeLength", "must be a whole number of minutes, shorter than SpikeEvery")
	case c.SpikeEvery > 0 && c.SpikeFactor < 5:
		return bad("SpikeFactor", "must be ≥ 5")
	case c.Tick < time.Millisecond || c.Tick > 10*time.Second:
		return bad("Tick", "must be within 1 ms..10 s")
	}
	return nil
}

// SimStats counts what a simulator has emitted.
type SimStats struct {
	Activity      int64 // activity events
	PurchaseLines int64
	SpikeEvents   int64 // of Activity, the extra events of spikes
}

// SimOption configures a Simulator.
type SimOption func(*Simulator)

// WithClock sets the time source (default SystemClock).
func WithClock(c Clock) SimOption { return func(s *Simulator) { s.clock = c } }

// WithSimLogger sets the logger (default: discard).
func WithSimLogger(l *slog.Logger) SimOption { return func(s *Simulator) { s.log = l } }

// Simulator emits live activity and purchases. It is deterministic for a given config and clock:
// the same sequence of clock readings gives the same events.
type Simulator struct {
	cfg   SimConfig
	sink  Sink
	clock Clock
	log   *slog.Logger
	w     *world
	r     *rand.Rand
	open  []simSession
	stats SimStats

	prefix  string // run prefix of ids, from the start time, so a restarted simulator never reuses a line id
	nextID  int
	orders  int
	sess    int
	started time.Time
}

// simSession is an open session: its planned events and purchase lines, and how far it got.
type simSession struct {
	acts  []event.Activity
	lines []event.TransactionLine
	next  int // index into acts; len(acts) means the lines are next
}

// NewSimulator checks cfg and builds a simulator that sends to sink.
func NewSimulator(cfg SimConfig, sink Sink, opts ...SimOption) (*Simulator, error) {
	if cfg.SpikeLength == 0 {
		cfg.SpikeLength = time.Minute
	}
	if cfg.Tick == 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, fmt.Errorf("%w: nil sink", ErrSimConfig)
	}
	s := &Simulator{cfg: cfg, sink: sink, clock: SystemClock, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Stats returns the counts so far; call it after Run returns or from the sink's goroutine.
func (s *Simulator) Stats() SimStats { return s.stats }

// Run emits events until ctx is done (then it returns nil) or the sink fails.
func (s *Simulator) Run(ctx context.Context) error {
	s.start(s.clock.Now())
	s.log.Info("simulating", "rate", s.cfg.Rate, "spike_every", s.cfg.SpikeEvery, "spike_factor", s.cfg.SpikeFactor)
	prev := s.started
	var acc int64 // events × 1e12 owed: integer, so the count per tick is exact
	for {
		select {
		case <-ctx.Done():
			s.log.Info("simulator stopped", "activity", s.stats.Activity, "purchase_lines", s.stats.PurchaseLines)
			return nil
		case <-s.clock.After(s.cfg.Tick):
		}
		now := s.clock.Now()
		dt := now.Sub(prev)
		prev = now
		if dt <= 0 {
			continue
		}
		rate := s.cfg.Rate
		spike := s.inSpike(now)
		if spike {
			rate *= s.cfg.SpikeFactor
		}
		// A slow sink must not build up an unbounded burst: owe at most one second of events.
		acc = min(acc+int64(math.Round(rate*1000))*dt.Nanoseconds(), int64(math.Round(rate*1000))*int64(time.Second))
		n := acc / 1e12
		acc -= n * 1e12
		for range n {
			if err := s.emit(ctx, now, spike); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

func (s *Simulator) start(now time.Time) {
	s.started = now
	s.prefix = now.UTC().Format("20060102T150405")
	cfg := DefaultConfig()
	cfg.Seed, cfg.Users, cfg.Products, cfg.Days, cfg.Spikes = s.cfg.Seed, s.cfg.Users, s.cfg.Products, 1, 0
	cfg.Start = now.UTC().Truncate(24 * time.Hour)
	s.w = newWorld(cfg)
	s.r = newRand(s.cfg.Seed, streamSim)
	s.open = make([]simSession, s.cfg.Sessions)
	for i := range s.open {
		s.open[i] = s.newSession()
	}
}

// inSpike reports whether t falls in a spike: the SpikeLength from every SpikeEvery-th whole
// minute after the start's minute.
func (s *Simulator) inSpike(t time.Time) bool {
	if s.cfg.SpikeEvery == 0 {
		return false
	}
	since := t.Truncate(time.Minute).Sub(s.started.Truncate(time.Minute))
	return since >= s.cfg.SpikeEvery && since%s.cfg.SpikeEvery < s.cfg.SpikeLength
}

func (s *Simulator) newSession() simSession {
	s.sess++
	sid := fmt.Sprintf("s%s-%06d", s.prefix, s.sess)
	orderID := func() string {
		s.orders++
		return fmt.Sprintf("o%s-%06d", s.prefix, s.orders)
	}
	acts, lines := s.w.session(s.r, s.r.IntN(len(s.w.users)), s.w.start, sid, orderID, nil, nil)
	return simSession{acts: acts, lines: lines}
}

// emit sends one event: during a spike most events are short visits of random users, else the
// next step of a random open session (its purchase lines, one event each, after checkout_start).
func (s *Simulator) emit(ctx context.Context, now time.Time, spike bool) error {
	r := s.r
	if spike && r.Float64() < 1-1/s.cfg.SpikeFactor {
		u := s.w.users[r.IntN(len(s.w.users))]
		a := &event.Activity{UserID: u, Type: event.PageView, Page: "/deals", Referrer: "social"}
		if r.IntN(2) == 0 {
			p := &s.w.products[s.w.pickProduct(r)]
			a.Type, a.ProductID, a.Page = event.ProductView, p.ID, p.Page
		}
		s.stats.SpikeEvents++
		return s.sendActivity(ctx, a, now)
	}
	i := r.IntN(len(s.open))
	ss := &s.open[i]
	if ss.next < len(ss.acts) {
		a := ss.acts[ss.next]
		ss.next++
		if ss.next == len(ss.acts) && len(ss.lines) == 0 {
			s.open[i] = s.newSession()
		}
		return s.sendActivity(ctx, &a, now)
	}
	l := ss.lines[0]
	ss.lines = ss.lines[1:]
	if len(ss.lines) == 0 {
		s.open[i] = s.newSession()
	}
	l.Time = now
	s.stats.PurchaseLines++
	return s.sink(ctx, DatasetTransactions, []byte(l.LineID), &l, now)
}

func (s *Simulator) sendActivity(ctx context.Context, a *event.Activity, now time.Time) error {
	s.nextID++
	a.EventID = fmt.Sprintf("a%s-%07d", s.prefix, s.nextID)
	a.Time = now
	s.stats.Activity++
	return s.sink(ctx, DatasetActivity, []byte(a.UserID), a, now)
}
