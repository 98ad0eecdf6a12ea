package redissink

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys, under the configured prefix (docs/redis.md).
const (
	minuteKey = "minute:" // + window start, Unix seconds: hash of partition fields and totals
	indexKey  = "minutes" // sorted set of window starts (score and member: Unix seconds)
	alertsKey = "alerts"  // sorted set of alert JSON, score: window start, Unix seconds
	markerKey = "sink"    // present while Redis holds what the sink wrote
)

// writeScript sets partition-owned fields to the larger of the stored and the given value, then
// recomputes the totals (sum over partitions of each name, and conversion = purchasers / active),
// sets the TTL and indexes the minute.
//
// KEYS[1] minute hash, KEYS[2] index. ARGV[1] TTL seconds, ARGV[2] window start (Unix seconds),
// then field, value pairs ("p<N>:<name>").
var writeScript = redis.NewScript(`
for i = 3, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i+1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
end
local all = redis.call('HGETALL', KEYS[1])
local tot = {}
for i = 1, #all, 2 do
  local name = string.match(all[i], '^p%d+:(.+)$')
  if name then tot[name] = (tot[name] or 0) + tonumber(all[i+1]) end
end
local args = {}
for name, v in pairs(tot) do
  table.insert(args, name)
  table.insert(args, string.format('%d', v))
end
local a, p = tot['active'] or 0, tot['purchasers'] or 0
table.insert(args, 'conversion')
if a > 0 then table.insert(args, string.format('%.6f', p / a)) else table.insert(args, '0') end
redis.call('HSET', KEYS[1], unpack(args))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return #args
`)

// Sink batches metric writes to Redis. Create it with New, run Run, then call SetWindow and
// SetAlert from any goroutine.
type Sink struct {
	rdb redis.UniversalClient
	o   options

	mu         sync.Mutex
	space      *sync.Cond                           // signalled when pending shrinks
	pending    map[int64]map[int32]map[string]int64 // window start (s) → partition → field → value
	alerts     map[string]alertEntry                // by alert id
	wrote      bool                                 // the marker has been written at least once
	rebuilding bool                                 // SetWindow must not block: the flusher is the caller
	stats      Stats
}

type alertEntry struct {
	score   int64
	payload string
}

// Stats counts what the sink did.
type Stats struct {
	Flushes       int64 // successful flushes
	FailedFlushes int64
	Windows       int64 // minute writes sent
	Rebuilds      int64 // times Rebuild ran after Redis lost the data
	Blocked       time.Duration
}

type options struct {
	prefix     string
	ttl        time.Duration
	interval   time.Duration
	maxPending int
	logger     *slog.Logger
	rebuild    func(ctx context.Context) error
}

// Option configures a Sink.
type Option func(*options)

// WithKeyPrefix puts every key under prefix (default "shopease:").
func WithKeyPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithTTL sets the lifetime of the keys, renewed at every write (default 48 h).
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// DefaultFlushInterval is how often pending changes are written unless WithFlushInterval says
// otherwise. A change waits up to one interval, so it bounds the latency from an event to its
// Redis value; each flush costs a few commands whatever the traffic. At 2,000 events/s through
// the whole processor group (bench.BenchmarkStreamRedisLatency, real servers): 1 s gave p99
// 987 ms (max 1,013 ms) and 0.0015 commands per event, 500 ms p99 522 ms and 0.0030
// (docs/decisions.md 11).
const DefaultFlushInterval = 500 * time.Millisecond

// WithFlushInterval sets how often pending changes are written (default DefaultFlushInterval).
func WithFlushInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithMaxPending bounds the minutes held while Redis does not answer; SetWindow blocks beyond it
// (default 100,000).
func WithMaxPending(n int) Option { return func(o *options) { o.maxPending = n } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRebuild sets the hook called when Redis has lost what the sink wrote (its marker key is
// gone): it should re-send every window and alert from state.
func WithRebuild(f func(ctx context.Context) error) Option { return func(o *options) { o.rebuild = f } }

// New returns a sink writing through rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Sink {
	o := options{prefix: "shopease:", ttl: 48 * time.Hour, interval: DefaultFlushInterval, maxPending: 100_000,
		logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	s := &Sink{rdb: rdb, o: o, pending: map[int64]map[int32]map[string]int64{}, alerts: map[string]alertEntry{}}
	s.space = sync.NewCond(&s.mu)
	return s
}

// SetWindow records partition part's fields for the window starting at start. A field keeps the
// largest value given until it is flushed. It blocks while MaxPending minutes wait for Redis.
func (s *Sink) SetWindow(start time.Time, part int32, fields map[string]int64) {
	sec := start.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[sec]; !ok && len(s.pending) >= s.o.maxPending && !s.rebuilding {
		t0 := time.Now()
		for len(s.pending) >= s.o.maxPending {
			s.space.Wait()
		}
		s.stats.Blocked += time.Since(t0)
	}
	parts := s.pending[sec]
	if parts == nil {
		parts = map[int32]map[string]int64{}
		s.pending[sec] = parts
	}
	f := parts[part]
	if f == nil {
		f = map[string]int64{}
		parts[part] = f
	}
	for k, v := range fields {
		if cur, ok := f[k]; !ok || v > cur {
			f[k] = v
		}
	}
}

// SetAlert records an alert (id unique per metric and window; payload JSON).
func (s *Sink) SetAlert(window time.Time, id string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts[id] = alertEntry{score: window.Unix(), payload: string(payload)}
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Pending returns the number of minutes waiting to be written.
func (s *Sink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) + len(s.alerts)
}

// Run flushes every interval until ctx is done, then flushes once more (bounded by 5 s). Failed
// flushes are logged and retried with backoff (up to 10 s); they never end Run.
func (s *Sink) Run(ctx context.Context) error {
	backoff := s.o.interval
	t := time.NewTimer(s.o.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := s.Flush(fctx)
			cancel()
			if err != nil {
				return fmt.Errorf("redissink: final flush: %w", err)
			}
			return nil
		case <-t.C:
		}
		if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.o.logger.Warn("redis sink: flush failed; retrying", "err", err, "pending", s.Pending(), "retry_in", backoff)
			t.Reset(backoff)
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = s.o.interval
		t.Reset(s.o.interval)
	}
}

// Flush writes everything pending as one pipeline. On failure the changes stay pending (merged
// with newer ones) for the next flush.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.checkMarker(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	batch, alerts := s.pending, s.alerts
	s.pending, s.alerts = map[int64]map[int32]map[string]int64{}, map[string]alertEntry{}
	s.mu.Unlock()
	if len(batch) == 0 && len(alerts) == 0 {
		return nil
	}
	err := s.write(ctx, batch, alerts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.stats.FailedFlushes++
		s.merge(batch, alerts)
		return err
	}
	s.stats.Flushes++
	s.stats.Windows += int64(len(batch))
	s.space.Broadcast()
	return nil
}

// merge puts a failed batch back under newer changes.
func (s *Sink) merge(batch map[int64]map[int32]map[string]int64, alerts map[string]alertEntry) {
	for sec, parts := range batch {
		cur := s.pending[sec]
		if cur == nil {
			s.pending[sec] = parts
			continue
		}
		for p, f := range parts {
			if cur[p] == nil {
				cur[p] = f
				continue
			}
			for k, v := range f {
				if v > cur[p][k] {
					cur[p][k] = v
				}
			}
		}
	}
	for id, a := range alerts {
		if _, ok := s.alerts[id]; !ok {
			s.alerts[id] = a
		}
	}
}

func (s *Sink) write(ctx context.Context, batch map[int64]map[int32]map[string]int64, alerts map[string]alertEntry) error {
	ttl := strconv.FormatInt(int64(s.o.ttl/time.Second), 10)
	run := func() ([]redis.Cmder, error) {
		return s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for sec, parts := range batch {
				args := []any{ttl, sec}
				for part, f := range parts {
					for k, v := range f {
						args = append(args, "p"+strconv.Itoa(int(part))+":"+k, v)
					}
				}
				writeScript.EvalSha(ctx, p, []string{s.key(minuteKey + strconv.FormatInt(sec, 10)), s.key(indexKey)}, args...)
			}
			if len(alerts) > 0 {
				zs := make([]redis.Z, 0, len(alerts))
				for _, a := range alerts {
					zs = append(zs, redis.Z{Score: float64(a.score), Member: a.payload})
				}
				p.ZAdd(ctx, s.key(alertsKey), zs...)
				p.Expire(ctx, s.key(alertsKey), s.o.ttl)
			}
			p.Set(ctx, s.key(markerKey), "1", 0)
			return nil
		})
	}
	_, err := run()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Redis restarted or was flushed: load the script once and send the batch again (every
		// write is absolute, so the part that did land is simply written again).
		if lerr := writeScript.Load(ctx, s.rdb).Err(); lerr != nil {
			return fmt.Errorf("redissink: load script: %w", lerr)
		}
		_, err = run()
	}
	if err != nil {
		return fmt.Errorf("redissink: write %d minutes: %w", len(batch), err)
	}
	s.mu.Lock()
	s.wrote = true
	s.mu.Unlock()
	return nil
}

// checkMarker calls the rebuild hook when Redis lost the keys the sink had written (the marker is
// written with every flush and has no TTL).
func (s *Sink) checkMarker(ctx context.Context) error {
	s.mu.Lock()
	wrote := s.wrote
	s.mu.Unlock()
	if !wrote || s.o.rebuild == nil {
		return nil
	}
	n, err := s.rdb.Exists(ctx, s.key(markerKey)).Result()
	if err != nil {
		return fmt.Errorf("redissink: check marker: %w", err)
	}
	if n == 1 {
		return nil
	}
	s.o.logger.Warn("redis sink: Redis lost the metrics (marker key gone); rebuilding from state")
	if err := s.Rebuild(ctx); err != nil {
		return fmt.Errorf("redissink: rebuild: %w", err)
	}
	s.mu.Lock()
	s.stats.Rebuilds++
	s.wrote = false
	s.mu.Unlock()
	return nil
}

// Rebuild calls the rebuild hook (if any), letting it queue any number of windows without
// blocking; the next flush writes them.
func (s *Sink) Rebuild(ctx context.Context) error {
	if s.o.rebuild == nil {
		return nil
	}
	s.mu.Lock()
	s.rebuilding = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.rebuilding = false
		s.mu.Unlock()
	}()
	return s.o.rebuild(ctx)
}

func (s *Sink) key(k string) string { return s.o.prefix + k }
