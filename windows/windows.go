package windows

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopease/shopease/processors/fence"
)

// ErrConfig is returned by Config.Validate for an unusable configuration.
var ErrConfig = errors.New("windows: bad config")

// Config describes the windows of one processor.
type Config struct {
	// Size of a window (default 1 minute). Windows are aligned to the Unix epoch.
	Size time.Duration
	// Grace is how far behind the watermark a window stays open (default 2 minutes).
	Grace time.Duration
	// Idle is the wall-clock silence after which a source stops holding the watermark back
	// (default 1 minute).
	Idle time.Duration
	// Expect gives, per input, how many origin sources (raw topic partitions) must have delivered a
	// record before the watermark exists, unless the partition has been running for Idle. Without
	// it a source that has not been read yet cannot hold the watermark back: the first sources
	// would close windows its records still belong to.
	Expect map[string]int
	// MaxOpen bounds the open windows of a partition (0: no bound). When a source lags far behind
	// the others (an upstream partition read late), the watermark waits for it and windows pile
	// up; past MaxOpen the oldest close early, and the lagging source's records for them arrive
	// Late. The bound keeps the state — rewritten on every record — small.
	MaxOpen int
	// Clock tells wall-clock time (default: SystemClock).
	Clock Clock
}

// Validate checks c and fills defaults.
func (c *Config) Validate() error {
	if c.Size == 0 {
		c.Size = time.Minute
	}
	if c.Grace == 0 {
		c.Grace = 2 * time.Minute
	}
	if c.Idle == 0 {
		c.Idle = time.Minute
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	switch {
	case c.Size < time.Millisecond || c.Size%time.Millisecond != 0:
		return fmt.Errorf("%w: size %v must be a positive whole number of milliseconds", ErrConfig, c.Size)
	case c.Grace < 0:
		return fmt.Errorf("%w: grace %v is negative", ErrConfig, c.Grace)
	case c.Idle < 0:
		return fmt.Errorf("%w: idle %v is negative", ErrConfig, c.Idle)
	case c.MaxOpen < 0:
		return fmt.Errorf("%w: max open %d is negative", ErrConfig, c.MaxOpen)
	}
	return nil
}

// Verdict is what Admit decided about a record.
type Verdict int

const (
	// Accepted: the record belongs to an open window.
	Accepted Verdict = iota
	// Duplicate: the record was admitted before (a redelivery); ignore it.
	Duplicate
	// Late: the record's window has closed.
	Late
)

func (v Verdict) String() string {
	switch v {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Source is what a State knows of one origin source (raw topic partition).
type Source struct {
	Input string `json:"i"`
	Max   int64  `json:"m"` // highest event time delivered, Unix ms
}

// State is one partition's windows: the open windows' aggregates, the sources behind the
// watermark, the closed frontier and the fence. A is the per-window aggregate; it must encode with
// encoding/json (the State is stored as a JSON table value).
//
// The State holds no wall-clock time: a stored value depends only on the records admitted, so a
// run killed and restarted stores what an undisturbed run does. When each source was last heard
// from is kept in memory by Windows (under Key) and starts afresh with the process: after a
// restart a source is idle only once it has been silent for Idle since then.
type State[A any] struct {
	// Key names the state for the wall-clock bookkeeping (e.g. its table key); set it after
	// decoding, it is not stored.
	Key     string             `json:"-"`
	Sources map[string]*Source `json:"sources,omitempty"`
	// Closed is the start of the first window that is still open: every window starting before
	// it has closed (Unix ms; 0 before anything closed).
	Closed int64        `json:"closed"`
	Open   map[int64]*A `json:"open,omitempty"` // by window start, Unix ms
	Fence  fence.Vector `json:"fence,omitempty"`
	// Late counts records that arrived after their window closed.
	Late int64 `json:"late"`
}

// Windows applies a Config to States.
type Windows struct {
	cfg  Config
	size int64 // ms

	mu      sync.Mutex
	started map[string]int64 // by State.Key: wall clock of its first use in this process, Unix ms
	seen    map[string]int64 // by State.Key + "|" + source: wall clock of its last record, Unix ms
}

// touch records the wall clock of a use of the state key (and of a record of source, if given)
// and returns when the key was first used in this process.
func (w *Windows) touch(key, source string, now int64) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, ok := w.started[key]
	if !ok {
		st = now
		w.started[key] = st
	}
	if source != "" {
		w.seen[key+"|"+source] = now
	}
	return st
}

// lastSeen returns when source last delivered to the state key in this process; a source not
// heard from since the process started counts as heard at the start.
func (w *Windows) lastSeen(key, source string, started int64) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.seen[key+"|"+source]; ok {
		return t
	}
	return started
}

// New returns the windows of cfg (validated).
func New(cfg Config) (*Windows, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Windows{cfg: cfg, size: cfg.Size.Milliseconds(),
		started: map[string]int64{}, seen: map[string]int64{}}, nil
}

// Config returns the validated configuration.
func (w *Windows) Config() Config { return w.cfg }

// Start returns the start of the window holding t, Unix ms.
func (w *Windows) Start(t time.Time) int64 {
	ms := t.UnixMilli()
	s := ms - ms%w.size
	if ms < 0 && ms%w.size != 0 {
		s -= w.size
	}
	return s
}

// Admit admits a record of input with origin o and event time t into st. On Accepted it returns
// the window start and its aggregate (created empty when new) for the caller to update; on Late
// the window start and nil; on Duplicate nothing changes.
func Admit[A any](w *Windows, st *State[A], input string, o fence.Origin, t time.Time) (int64, *A, Verdict) {
	if !st.Fence.Admit(o) {
		return 0, nil, Duplicate
	}
	if st.Sources == nil {
		st.Sources = map[string]*Source{}
	}
	key := o.Topic + "/" + strconv.Itoa(int(o.Partition))
	src := st.Sources[key]
	if src == nil {
		src = &Source{Input: input, Max: math.MinInt64}
		st.Sources[key] = src
	}
	src.Max = max(src.Max, t.UnixMilli())
	w.touch(st.Key, key, w.cfg.Clock.Now().UnixMilli())
	start := w.Start(t)
	if start < st.Closed {
		st.Late++
		return start, nil, Late
	}
	if st.Open == nil {
		st.Open = map[int64]*A{}
	}
	a := st.Open[start]
	if a == nil {
		a = new(A)
		st.Open[start] = a
	}
	return start, a, Accepted
}

// Watermark returns st's watermark (Unix ms), or false while it does not exist yet.
func Watermark[A any](w *Windows, st *State[A]) (int64, bool) {
	now := w.cfg.Clock.Now().UnixMilli()
	idle := w.cfg.Idle.Milliseconds()
	started := w.touch(st.Key, "", now)
	young := now-started < idle
	for in, n := range w.cfg.Expect {
		seen := 0
		for _, s := range st.Sources {
			if s.Input == in {
				seen++
			}
		}
		if seen < n && young {
			return 0, false
		}
	}
	wm, active := int64(math.MaxInt64), false
	highest := int64(math.MinInt64)
	for key, s := range st.Sources {
		highest = max(highest, s.Max)
		if now-w.lastSeen(st.Key, key, started) > idle {
			continue
		}
		wm, active = min(wm, s.Max), true
	}
	if highest == math.MinInt64 {
		return 0, false
	}
	if !active {
		// Every source is quiet: nothing is in flight, so the highest time seen is the frontier.
		return highest, true
	}
	return wm, true
}

// Closed is a window that Close completed.
type Closed[A any] struct {
	Start int64 // Unix ms
	Agg   *A
}

// Close closes every open window of st that the watermark has passed by more than the grace
// period, and the oldest beyond Config.MaxOpen, returning them in start order, and advances
// st.Closed. It returns the new frontier too (windows starting before it are closed, including
// those that never had a record).
func Close[A any](w *Windows, st *State[A]) ([]Closed[A], int64) {
	frontier := st.Closed
	if wm, ok := Watermark(w, st); ok {
		frontier = max(frontier, w.Start(time.UnixMilli(wm-w.cfg.Grace.Milliseconds())))
	}
	if n := w.cfg.MaxOpen; n > 0 && len(st.Open) > n {
		starts := make([]int64, 0, len(st.Open))
		for s := range st.Open {
			starts = append(starts, s)
		}
		slices.Sort(starts)
		frontier = max(frontier, starts[len(starts)-n])
	}
	if frontier <= st.Closed {
		return nil, st.Closed
	}
	var out []Closed[A]
	for s, a := range st.Open {
		if s < frontier {
			out = append(out, Closed[A]{Start: s, Agg: a})
			delete(st.Open, s)
		}
	}
	slices.SortFunc(out, func(a, b Closed[A]) int { return cmp.Compare(a.Start, b.Start) })
	st.Closed = frontier
	return out, frontier
}
