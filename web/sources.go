package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/reports"
)

// ErrNoRedis is returned by the realtime endpoints when the server has no Redis to read.
var ErrNoRedis = errors.New("web: no Redis configured (the realtime processor writes there)")

// ErrNoReports is returned by the report endpoints before the first load of the tables finished.
var ErrNoReports = errors.New("web: reports not loaded yet")

// Lag is the consumer lag of every group of `shopease run`, as last measured.
type Lag struct {
	Groups map[string]int64 `json:"groups"`
	At     time.Time        `json:"measured_at"`
	Err    string           `json:"error,omitempty"`
}

// lagCache measures the lag in the background: each measurement opens connections to the
// brokers, which a scrape every few seconds should not do.
type lagCache struct {
	mu  sync.Mutex
	lag Lag
}

func (c *lagCache) get() Lag {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lag
}

func (c *lagCache) refresh(cfg cluster.Config) {
	groups := map[string]int64{}
	var errs []error
	for g, in := range processors.Inputs(cfg.Namespace) {
		n, err := cfg.Lag(g, in...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups[string(g)] = n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		c.lag.Err = err.Error() // keep the last good numbers beside the error
		return
	}
	c.lag = Lag{Groups: groups, At: time.Now()}
}

// Minute is one minute of the real-time metrics (docs/redis.md, key minute:<start>).
type Minute struct {
	Start        time.Time        `json:"start"`
	Active       int64            `json:"active"`
	Purchasers   int64            `json:"purchasers"`
	Conversion   float64          `json:"conversion"`
	Events       int64            `json:"events"`
	EventsByType map[string]int64 `json:"events_by_type"`
}

// Alert is a spike alert as the realtime processor writes it to Redis.
type Alert struct {
	Window   time.Time `json:"window"`
	Metric   string    `json:"metric"`
	Observed float64   `json:"observed"`
	Expected float64   `json:"expected"`
	Score    float64   `json:"score"`
}

// realtimeReader reads the realtime processor's values from Redis.
type realtimeReader struct {
	rdb    redis.UniversalClient // nil: no Redis
	prefix string
}

// minutes returns the minutes Redis holds among the n minutes up to the newest one, oldest first.
// Older minutes are left out even when fewer than n are newer: a replayed history is far older
// than the live traffic after it, and a chart mixing them would hide the gap between.
func (r realtimeReader) minutes(ctx context.Context, n int) ([]Minute, error) {
	if r.rdb == nil {
		return nil, ErrNoRedis
	}
	newest, err := r.rdb.ZRevRangeWithScores(ctx, r.prefix+"minutes", 0, 0).Result()
	if err != nil {
		return nil, fmt.Errorf("web: read %sminutes: %w", r.prefix, err)
	}
	if len(newest) == 0 {
		return []Minute{}, nil
	}
	from := newest[0].Score - float64(60*(n-1))
	starts, err := r.rdb.ZRevRangeByScore(ctx, r.prefix+"minutes", &redis.ZRangeBy{
		Min: strconv.FormatFloat(from, 'f', 0, 64), Max: "+inf", Count: int64(n)}).Result()
	if err != nil {
		return nil, fmt.Errorf("web: read %sminutes: %w", r.prefix, err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(starts))
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range starts {
			cmds[i] = p.HGetAll(ctx, r.prefix+"minute:"+s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read minutes: %w", err)
	}
	out := make([]Minute, 0, len(starts))
	for i := len(starts) - 1; i >= 0; i-- {
		sec, err := strconv.ParseInt(starts[i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("web: minute %q: %w", starts[i], err)
		}
		if m, ok := parseMinute(time.Unix(sec, 0).UTC(), cmds[i].Val()); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// parseMinute reads a minute hash's totals; the p<N>: fields are partition shares and the totals
// already sum them. ok is false for a hash that expired between the index and the read.
func parseMinute(start time.Time, h map[string]string) (Minute, bool) {
	if len(h) == 0 {
		return Minute{}, false
	}
	m := Minute{Start: start, EventsByType: map[string]int64{}}
	for k, v := range h {
		if isPartitionField(k) {
			continue
		}
		if k == "conversion" {
			m.Conversion, _ = strconv.ParseFloat(v, 64)
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch {
		case k == "active":
			m.Active = n
		case k == "purchasers":
			m.Purchasers = n
		case k == "events":
			m.Events = n
		case strings.HasPrefix(k, "events:"):
			m.EventsByType[strings.TrimPrefix(k, "events:")] = n
		}
	}
	return m, true
}

// isPartitionField reports a "p<N>:<name>" field: partition N's share of a total.
func isPartitionField(k string) bool {
	n, _, ok := strings.Cut(k, ":")
	if !ok || len(n) < 2 || n[0] != 'p' {
		return false
	}
	_, err := strconv.Atoi(n[1:])
	return err == nil
}

// alerts returns the newest n alerts, newest first.
func (r realtimeReader) alerts(ctx context.Context, n int) ([]Alert, error) {
	if r.rdb == nil {
		return nil, ErrNoRedis
	}
	raw, err := r.rdb.ZRevRange(ctx, r.prefix+"alerts", 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("web: read %salerts: %w", r.prefix, err)
	}
	out := make([]Alert, 0, len(raw))
	for _, s := range raw {
		var a Alert
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return nil, fmt.Errorf("web: alert in Redis: %w", err)
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Window.After(out[j].Window) })
	return out, nil
}

// reportCache holds the tables the reports are computed from, reloaded in the background through
// goka views whose local state persists between loads (so a reload reads only what is new).
type reportCache struct {
	mu       sync.Mutex
	data     *reports.Data
	loadedAt time.Time
	err      error
}

func (c *reportCache) get() (*reports.Data, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		if c.err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %w", ErrNoReports, c.err)
		}
		return nil, time.Time{}, ErrNoReports
	}
	return c.data, c.loadedAt, nil
}

func (c *reportCache) refresh(ctx context.Context, cfg cluster.Config, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := reports.Load(ctx, cfg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err = err
		return
	}
	c.data, c.loadedAt, c.err = d, time.Now(), nil
}
