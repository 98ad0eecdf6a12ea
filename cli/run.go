package cli

import (
	"context"
	"flag"
	"strings"
	"time"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/redissink"
)

func runCmd() *command {
	var (
		cf          clusterFlags
		kf          keyFlags
		pf          pipelineFlags
		hf          httpFlags
		redisAddr   string
		redisPrefix string
		only        string
		fetchBytes  int
		redisFlush  time.Duration
	)
	return &command{
		name:    "run",
		summary: "run the processor group (always-on; stop with Ctrl-C)",
		help: `Runs the ShopEase processors (every one unless --processors names some) against a Kafka
cluster until SIGINT or SIGTERM, then commits offsets, closes the local tables and exits 0. Beside
the processors it archives the clean topics to the Parquet lake (--archive) and snapshots every
table to the lake every --snapshot-interval; a table partition whose local state is missing is
restored from the newest snapshot and only the changelog after it is replayed. Start several
instances with the same --namespace to share the partitions between them.

Before the first run create the input topics with 'shopease topics create'. The gateways replace
raw user ids with HMAC-SHA256 pseudonyms: give the key as SHOPEASE_PSEUDONYM_KEY=v<N>:<secret>
(run refuses to start without one; --demo-key uses the public demo key, for trials only).

The real-time metrics (active users, purchasers, conversion and events per minute, spike alerts)
go to the Redis at --redis under --redis-prefix (key schema: docs/redis.md); --redis "" turns
them off. While Redis is down processing goes on and Redis catches up when it is back.

--processors runs some of the processors only (all by default): e.g. the four gateways with the
lake writer are all a backfill of the lake from history needs ('--processors gateways'), and the
real-time processor can run on instances of its own ('--processors realtime').

--http ADDR serves the dashboard, the JSON API, Prometheus /metrics, /healthz and /readyz (off by
default, so several instances can share a machine; give each its own port).

Example:
  export SHOPEASE_PSEUDONYM_KEY="v1:$(head -c 32 /dev/urandom | base64)"   # keep it: pseudonyms depend on it
  shopease run --brokers 127.0.0.1:9092 --data-dir ./data --redis 127.0.0.1:6379 --http 127.0.0.1:9090`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			kf.register(fs)
			pf.register(fs)
			hf.register(fs, runHTTPAddr)
			fs.StringVar(&redisAddr, "redis", "127.0.0.1:6379", "Redis for the real-time metrics (host:port; empty: none)")
			fs.StringVar(&redisPrefix, "redis-prefix", "shopease:", "prefix of every Redis key")
			fs.DurationVar(&redisFlush, "redis-flush", redissink.DefaultFlushInterval, "how often the real-time metrics that changed are written to Redis (the longest a change waits; each write costs a few commands)")
			fs.IntVar(&fetchBytes, "fetch-bytes", cluster.DefaultFetchBytes, "bytes a consumer fetches per partition and request (memory grows with partitions × this; larger can be faster)")
			fs.StringVar(&only, "processors", "all", "comma-separated processors to run: "+strings.Join(processors.Names(), ",")+
				", or all, or gateways ("+strings.Join(processors.Gateways, ",")+")")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("run takes no arguments")
			}
			var err error
			if pf.processors, err = processors.ParseNames(only); err != nil {
				return usagef("%v", err)
			}
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			if fetchBytes < 1<<10 || fetchBytes > 1<<30 {
				return usagef("--fetch-bytes must be between 1 KiB and 1 GiB, got %d", fetchBytes)
			}
			cfg.FetchBytes = int32(fetchBytes)
			if redisFlush <= 0 {
				return usagef("--redis-flush must be positive, got %s", redisFlush)
			}
			cfg.RedisFlushInterval = redisFlush
			if cfg.Pseudonyms, err = kf.pseudonymizer(e); err != nil {
				return err
			}
			cfg.RedisAddr, cfg.RedisKeyPrefix = redisAddr, redisPrefix
			pw := hf.observe(&cfg)
			pf.restoring(e, &cfg, pw.tables)
			if err := pw.listen(hf.addr, cfg, pf.lake(cfg)); err != nil {
				return err
			}
			e.log.Info("starting processors", "processors", pf.processors, "brokers", cfg.Brokers, "namespace", string(cfg.Namespace), "data_dir", cfg.DataDir,
				"lake_dir", pf.lake(cfg), "archive", pf.archive, "snapshot_interval", pf.snapshotInterval)
			if pw.srv != nil {
				e.log.Info("serving the dashboard, JSON API and /metrics", "url", pw.srv.URL())
			}
			if err := pf.run(ctx, e, cfg, pw); err != nil {
				return err
			}
			e.log.Info("stopped cleanly")
			return nil
		},
	}
}
