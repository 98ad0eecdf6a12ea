package windows

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrConfig is returned by Config.Validate for an unusable configuration.
var ErrConfig = errors.New("windows: bad config")

// Config describes the windows of one processor.
type Config struct {
	// Size of a window (default 1 minute). Windows are aligned to the Unix epoch.
	Size time.Duration
	// Grace is how far behind the watermark a window stays open (default 2 minutes).
	Grace time.Duration
	// Expect is how many sources (raw topic partitions) must have reported before the watermark
	// exists: a source not heard from yet cannot hold windows open, so without it the first
	// sources would close windows its records still belong to (default 1).
	Expect int
}

// Validate checks c and fills defaults.
func (c *Config) Validate() error {
	if c.Size == 0 {
		c.Size = time.Minute
	}
	if c.Grace == 0 {
		c.Grace = 2 * time.Minute
	}
	if c.Expect == 0 {
		c.Expect = 1
	}
	switch {
	case c.Size < time.Millisecond || c.Size%time.Millisecond != 0:
		return fmt.Errorf("%w: size %v must be a positive whole number of milliseconds", ErrConfig, c.Size)
	case c.Grace < 0:
		return fmt.Errorf("%w: grace %v is negative", ErrConfig, c.Grace)
	case c.Expect < 0:
		return fmt.Errorf("%w: expect %d is negative", ErrConfig, c.Expect)
	}
	return nil
}

// Windows applies a Config.
type Windows struct {
	cfg   Config
	size  int64 // ms
	grace int64 // ms
}

// New returns the windows of cfg (validated).
func New(cfg Config) (*Windows, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Windows{cfg: cfg, size: cfg.Size.Milliseconds(), grace: cfg.Grace.Milliseconds()}, nil
}

// Config returns the validated configuration.
func (w *Windows) Config() Config { return w.cfg }

// Size is the window size in milliseconds.
func (w *Windows) Size() int64 { return w.size }

// Start returns the start (Unix ms) of the window holding the time ms (Unix ms).
func (w *Windows) Start(ms int64) int64 {
	s := ms - ms%w.size
	if ms < 0 && ms%w.size != 0 {
		s -= w.size
	}
	return s
}

// Source is what Clocks know of one source: the first and the latest window it reached.
type Source struct {
	Name  string `json:"s"`
	First int64  `json:"f"` // Unix ms
	Clock int64  `json:"c"` // Unix ms
}

// Clocks are one partition's source clocks and its closed frontier; they are stored as a goka
// table value (JSON), so a restart resumes with them.
type Clocks struct {
	Sources []Source `json:"sources,omitempty"` // by name
	// Opened is set once every expected source has reported; Start is then the first window the
	// partition closes, and Frontier the first window still open (every window from Start before
	// it has closed).
	Opened   bool  `json:"opened,omitempty"`
	Start    int64 `json:"start,omitempty"`
	Frontier int64 `json:"frontier,omitempty"`
}

// Advance records that source reached the window starting at win (a signal). It reports whether
// the clocks changed: a signal that moves nothing (delivered again) returns false.
func (w *Windows) Advance(c *Clocks, source string, win int64) bool {
	i, ok := slices.BinarySearchFunc(c.Sources, source, func(s Source, name string) int {
		switch {
		case s.Name < name:
			return -1
		case s.Name > name:
			return 1
		}
		return 0
	})
	if !ok {
		c.Sources = slices.Insert(c.Sources, i, Source{Name: source, First: win, Clock: win})
		return true
	}
	s := &c.Sources[i]
	changed := false
	if win < s.First {
		s.First, changed = win, true
	}
	if win > s.Clock {
		s.Clock, changed = win, true
	}
	return changed
}

// Watermark returns the oldest source clock (Unix ms), or false while fewer than Expect sources
// have reported.
func (w *Windows) Watermark(c *Clocks) (int64, bool) {
	if len(c.Sources) < w.cfg.Expect || len(c.Sources) == 0 {
		return 0, false
	}
	wm := int64(math.MaxInt64)
	for _, s := range c.Sources {
		wm = min(wm, s.Clock)
	}
	return wm, true
}

// Close advances the frontier to what the watermark allows and returns the windows closed now:
// every start in [from, to), stepping by Size (from == to: none). The first call after every
// expected source has reported sets Start (first reports: opened is true).
func (w *Windows) Close(c *Clocks) (from, to int64, opened bool) {
	wm, ok := w.Watermark(c)
	if !ok {
		return 0, 0, false
	}
	if !c.Opened {
		first := int64(math.MaxInt64)
		for _, s := range c.Sources {
			first = min(first, s.First)
		}
		c.Start = w.Start(first - w.grace)
		c.Frontier, c.Opened = c.Start, true
		opened = true
	}
	// Window s closes once wm ≥ s + size + grace.
	next := w.Start(wm-w.grace-w.size) + w.size
	from = c.Frontier
	if next <= from {
		return from, from, opened
	}
	c.Frontier = next
	return from, next, opened
}
