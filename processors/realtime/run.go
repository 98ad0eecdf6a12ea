package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/redissink"
)

// New builds the processor; opts come after the cluster's, so a test can inject goka.WithTester.
func New(cfg cluster.Config, s Settings, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := newProcessor(cfg, s)
	if err != nil {
		return nil, err
	}
	gp, err := goka.NewProcessor(cfg.Brokers, p.graph(cfg), cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("realtime: build processor: %w", err)
	}
	return gp, nil
}

// EnsureOutputs creates, when missing, the clean inputs (the gateways may start later), the
// alerts and late topics, the loopback topic and the group table, all with the raw activity
// topic's partition count, and returns that count.
func EnsureOutputs(cfg cluster.Config) (int, error) {
	ns := cfg.Namespace
	in := ns.Stream(topology.Activity)
	streams := []goka.Stream{ns.Stream(topology.CleanActivity), ns.Stream(topology.CleanTransactions),
		ns.Stream(topology.Alerts), ns.Stream(topology.Late), goka.Stream(string(ns.Group(Group)) + "-loop")}
	// The gateways create the clean topics too, at the same moment under `shopease run`: the
	// loser of that race is told the topic already exists, and looks again.
	var err error
	for range 5 {
		if err = cfg.EnsureOutputs(in, streams, []goka.Table{ns.Table(Group)}); !alreadyExists(err) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return 0, fmt.Errorf("realtime: %w", err)
	}
	tm, err := cfg.TopicManager()
	if err != nil {
		return 0, err
	}
	defer tm.Close()
	parts, err := tm.Partitions(string(in))
	if err != nil {
		return 0, fmt.Errorf("realtime: partitions of %s: %w", in, err)
	}
	return len(parts), nil
}

// alreadyExists reports a lost topic creation race. goka formats sarama's error into its own
// (without %w), so only the text tells.
func alreadyExists(err error) bool {
	return err != nil && (errors.Is(err, sarama.ErrTopicAlreadyExists) || strings.Contains(err.Error(), "already exists"))
}

// Run runs the processor with default settings, writing to cfg.RedisAddr when set.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	return RunWith(ctx, cfg, RunSettings{}, opts...)
}

// RunSettings are Settings plus the Redis wiring of RunWith.
type RunSettings struct {
	Settings
	// Redis is the client of the sink (default: one for cfg.RedisAddr; none when both are empty
	// and Settings.Sink is nil).
	Redis redis.UniversalClient
	// RedisOptions are extra sink options (flush interval, TTL, ...).
	RedisOptions []redissink.Option
}

// RunWith runs the processor until ctx is done, returning nil on a clean stop. With Redis, it first
// rebuilds Redis from the group table (through a view) — after a crash, changes the sink had not
// flushed are gone from memory but not from the table — and rebuilds it again whenever Redis loses
// its data.
func RunWith(ctx context.Context, cfg cluster.Config, rs RunSettings, opts ...goka.ProcessorOption) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	parts, err := EnsureOutputs(cfg)
	if err != nil {
		return err
	}
	if rs.Partitions == 0 {
		rs.Partitions = parts
	}
	if rs.Redis == nil && rs.Sink == nil && cfg.RedisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
		defer rdb.Close()
		for _, h := range cfg.RedisHooks {
			rdb.AddHook(h)
		}
		rs.Redis = rdb
	}
	g, ctx := errgroup.WithContext(ctx)
	if rs.Redis != nil {
		view, err := goka.NewView(cfg.Brokers, cfg.Namespace.Table(Group), ValueCodec{}, cfg.ViewOptions(cfg.Namespace.Table(Group))...)
		if err != nil {
			return fmt.Errorf("realtime: view: %w", err)
		}
		g.Go(func() error {
			if err := view.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("realtime: view: %w", err)
			}
			return nil
		})
		prefix := cfg.RedisKeyPrefix
		if prefix == "" {
			prefix = "shopease:"
		}
		var sink *redissink.Sink
		sopts := []redissink.Option{redissink.WithKeyPrefix(prefix), redissink.WithLogger(cfg.Logger),
			redissink.WithRebuild(func(ctx context.Context) error { return Rebuild(ctx, view, RedisSink(sink)) })}
		if cfg.RedisFlushInterval > 0 {
			sopts = append(sopts, redissink.WithFlushInterval(cfg.RedisFlushInterval))
		}
		sopts = append(sopts, rs.RedisOptions...)
		sink = redissink.New(rs.Redis, sopts...)
		rs.Sink = RedisSink(sink)
		select {
		case <-view.WaitRunning():
		case <-ctx.Done():
			return g.Wait()
		}
		if err := sink.Rebuild(ctx); err != nil {
			return fmt.Errorf("realtime: rebuild Redis: %w", err)
		}
		g.Go(func() error { return sink.Run(ctx) })
	}
	p, err := New(cfg, rs.Settings, opts...)
	if err != nil {
		return err
	}
	g.Go(func() error {
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("realtime: run: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// Rebuild sends every window and alert of the table, as view holds it, to sink: each partition's
// share of every minute, and the recent alerts.
func Rebuild(ctx context.Context, view *goka.View, sink Sink) error {
	it, err := view.IteratorWithRange(keyMark, "")
	if err != nil {
		return fmt.Errorf("realtime: iterate table: %w", err)
	}
	defer it.Release()
	n := 0
	for it.Next() {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.HasPrefix(it.Key(), keyMark) {
			continue
		}
		raw, err := it.Value()
		if err != nil {
			return fmt.Errorf("realtime: read %s: %w", it.Key(), err)
		}
		v, _ := raw.(*Value)
		switch {
		case v == nil:
		case v.Minute != nil:
			if c := v.Minute.Counts(); c.Active > 0 || c.Purchasers > 0 || len(c.Events) > 0 {
				sink.SetWindow(time.UnixMilli(v.Minute.Start).UTC(), v.Minute.Part, c)
			}
		case v.Spikes != nil:
			for _, a := range v.Spikes.Alerts {
				sink.SetAlert(a)
			}
		}
	}
	return nil
}

// RedisSink adapts a redissink.Sink: fields "active", "purchasers", "events" (all types) and
// "events:<type>" per partition; alerts as JSON.
func RedisSink(s *redissink.Sink) Sink { return redisAdapter{s} }

type redisAdapter struct{ s *redissink.Sink }

func (a redisAdapter) SetWindow(start time.Time, part int32, c Counts) {
	f := make(map[string]int64, len(c.Events)+3)
	f["active"], f["purchasers"], f["events"] = c.Active, c.Purchasers, c.Total()
	for t, n := range c.Events {
		f["events:"+t] = n
	}
	a.s.SetWindow(start, part, f)
}

func (a redisAdapter) SetAlert(al Alert) {
	b, err := json.Marshal(al)
	if err != nil {
		return // an Alert always encodes
	}
	a.s.SetAlert(al.Window, al.ID(), b)
}
