package redissink_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/redissink"
	"github.com/shopease/shopease/testenv"
)

var minute = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// TestWindowsTotalsAndIdempotence writes two partitions' shares of a minute, some twice and some
// smaller than before (a retry or a rebuild from older state), and reads the hash back: partition
// fields keep their largest value, totals are their sums and conversion is purchasers / active.
func TestWindowsTotalsAndIdempotence(t *testing.T) {
	testenv.ForEachRedis(t, func(t *testing.T, r testenv.Redis) {
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer rdb.Close()
		prefix := testenv.KeyPrefix(t, r)
		s := redissink.New(rdb, redissink.WithKeyPrefix(prefix), redissink.WithTTL(time.Hour))
		ctx := context.Background()
		s.SetWindow(minute, 0, map[string]int64{"active": 3, "purchasers": 1, "events": 7, "events:page_view": 7})
		s.SetWindow(minute, 1, map[string]int64{"active": 1, "purchasers": 0, "events": 2, "events:search": 2})
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s.SetWindow(minute, 0, map[string]int64{"active": 2, "purchasers": 1, "events": 5, "events:page_view": 5}) // older
		s.SetWindow(minute, 1, map[string]int64{"active": 1, "purchasers": 1, "events": 2, "events:search": 2})
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s.SetWindow(minute, 1, map[string]int64{"active": 1, "purchasers": 1, "events": 2, "events:search": 2}) // retry
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%sminute:%d", prefix, minute.Unix())
		got, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"p0:active": "3", "p0:purchasers": "1", "p0:events": "7", "p0:events:page_view": "7",
			"p1:active": "1", "p1:purchasers": "1", "p1:events": "2", "p1:events:search": "2",
			"active": "4", "purchasers": "2", "events": "9", "events:page_view": "7", "events:search": "2",
			"conversion": "0.500000",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v\nwant %v", key, got, want)
		}
		ttl, err := rdb.TTL(ctx, key).Result()
		if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("TTL %v, %v", ttl, err)
		}
		idx, err := rdb.ZRange(ctx, prefix+"minutes", 0, -1).Result()
		if err != nil || fmt.Sprint(idx) != fmt.Sprint([]string{fmt.Sprint(minute.Unix())}) {
			t.Errorf("index %v, %v", idx, err)
		}
	})
}

// TestCommandsPerEvent feeds a steady stream: 8 partitions, 100 events a second each (a window's
// counts change with every event) for 3 minutes of event time, flushed every second of event
// time, and counts the Redis commands with a go-redis hook: at most 1 per 100 events.
func TestCommandsPerEvent(t *testing.T) {
	testenv.ForEachRedis(t, func(t *testing.T, r testenv.Redis) {
		cc := &testenv.CommandCounter{}
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer rdb.Close()
		rdb.AddHook(cc)
		prefix := testenv.KeyPrefix(t, r)
		s := redissink.New(rdb, redissink.WithKeyPrefix(prefix))
		ctx := context.Background()
		const parts, perSecond, seconds = 8, 100, 180
		events := 0
		counts := make([]int64, parts)
		for sec := 0; sec < seconds; sec++ {
			start := minute.Add(time.Duration(sec/60) * time.Minute)
			if sec%60 == 0 {
				clear(counts)
			}
			for p := range parts {
				for range perSecond {
					counts[p]++
					events++
					s.SetWindow(start, int32(p), map[string]int64{"events": counts[p], "events:page_view": counts[p]})
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		n := cc.N()
		t.Logf("%d events, %d Redis commands: %.4f commands per event", events, n, float64(n)/float64(events))
		if float64(n) > float64(events)/100 {
			t.Errorf("%d commands for %d events: more than 1 per 100", n, events)
		}
		got, err := rdb.HGet(ctx, fmt.Sprintf("%sminute:%d", prefix, minute.Add(2*time.Minute).Unix()), "events").Result()
		if err != nil || got != fmt.Sprint(parts*perSecond*60) {
			t.Errorf("events of the last minute %q, %v", got, err)
		}
	})
}
