package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/testenv"
)

// TestRedis checks, on both environments, the commands the metrics sink is built on: plain
// values, hash fields written as absolute values, pipelines, TTLs, and that a test's prefix
// confines its keys.
func TestRedis(t *testing.T) {
	testenv.ForEachRedis(t, func(t *testing.T, r testenv.Redis) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer c.Close()
		prefix := testenv.KeyPrefix(t, r)

		if err := c.Set(ctx, prefix+"answer", "42", 0).Err(); err != nil {
			t.Fatalf("%s: SET: %v", r.Name(), err)
		}
		if got, err := c.Get(ctx, prefix+"answer").Result(); err != nil || got != "42" {
			t.Fatalf("%s: GET = %q, %v; want 42", r.Name(), got, err)
		}
		if _, err := c.Get(ctx, prefix+"missing").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("%s: GET of a missing key: err %v, want redis.Nil", r.Name(), err)
		}

		pipe := c.Pipeline()
		for i := range 100 {
			pipe.HSet(ctx, prefix+"minute", fmt.Sprintf("p%d", i%8), i)
		}
		pipe.Expire(ctx, prefix+"minute", time.Hour)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("%s: pipeline: %v", r.Name(), err)
		}
		fields, err := c.HGetAll(ctx, prefix+"minute").Result()
		if err != nil {
			t.Fatalf("%s: HGETALL: %v", r.Name(), err)
		}
		// The last write of each field wins: p0 was last set by i=96, p3 by i=99.
		want := map[string]string{"p0": "96", "p1": "97", "p2": "98", "p3": "99", "p4": "92", "p5": "93", "p6": "94", "p7": "95"}
		if fmt.Sprint(fields) != fmt.Sprint(want) {
			t.Errorf("%s: HGETALL = %v, want %v", r.Name(), fields, want)
		}
		if ttl, err := c.TTL(ctx, prefix+"minute").Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("%s: TTL = %v, %v; want about 1h", r.Name(), ttl, err)
		}
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err != nil || len(keys) != 2 {
			t.Errorf("%s: keys under %s = %v, %v; want 2", r.Name(), prefix, keys, err)
		}
	})
}
