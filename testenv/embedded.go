package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/alicebob/miniredis/v2"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka (kfake) and Redis (miniredis), each listening on 127.0.0.1 so
// that sarama, goka and go-redis reach them over TCP exactly as they reach real servers.
type Embedded struct {
	kafka *kfake.Cluster
	redis *miniredis.Miniredis
}

type embeddedConfig struct {
	logger     *slog.Logger
	kafkaPort  int
	redisPort  int
	partitions int
}

// Option configures StartEmbedded.
type Option func(*embeddedConfig)

// WithLogger sends kfake's warnings and errors to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *embeddedConfig) { c.logger = l } }

// WithKafkaPort fixes the Kafka port (default 0: a free port), for a demo that prints a stable address.
func WithKafkaPort(port int) Option { return func(c *embeddedConfig) { c.kafkaPort = port } }

// WithRedisPort fixes the Redis port (default 0: a free port).
func WithRedisPort(port int) Option { return func(c *embeddedConfig) { c.redisPort = port } }

// WithDefaultPartitions sets the partition count of topics created with -1 partitions (default 10,
// kfake's). goka always passes an explicit count, so this matters only to ad-hoc tools.
func WithDefaultPartitions(n int) Option { return func(c *embeddedConfig) { c.partitions = n } }

func (c *embeddedConfig) validate() error {
	if c.kafkaPort < 0 || c.kafkaPort > 65535 || c.redisPort < 0 || c.redisPort > 65535 {
		return fmt.Errorf("%w: kafka %d, redis %d", ErrBadPort, c.kafkaPort, c.redisPort)
	}
	if c.partitions <= 0 {
		return fmt.Errorf("%w: default partitions %d", ErrBadOption, c.partitions)
	}
	return nil
}

var (
	// ErrBadPort is returned by StartEmbedded when a port option is outside 0..65535.
	ErrBadPort = errors.New("testenv: bad port")
	// ErrBadOption is returned by StartEmbedded when an option has an impossible value.
	ErrBadOption = errors.New("testenv: bad option")
)

// StartEmbedded starts a one-broker kfake cluster and a miniredis server on 127.0.0.1. The caller
// must Close it. ctx bounds only the start; the servers run until Close.
func StartEmbedded(ctx context.Context, opts ...Option) (*Embedded, error) {
	cfg := embeddedConfig{logger: slog.New(slog.DiscardHandler), partitions: 10}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start embedded environment: %w", err)
	}
	// One broker: every partition then has one replica, which is what goka's replication-1 table
	// topics ask for, and the same shape as the real single-node broker.
	kafka, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(cfg.kafkaPort),
		kfake.DefaultNumPartitions(cfg.partitions),
		kfake.WithLogger(kfakeLogger{cfg.logger.With("component", "kfake")}),
	)
	if err != nil {
		return nil, fmt.Errorf("start kfake on 127.0.0.1:%d: %w", cfg.kafkaPort, err)
	}
	redis := miniredis.NewMiniRedis()
	if err := redis.StartAddr(fmt.Sprintf("127.0.0.1:%d", cfg.redisPort)); err != nil {
		kafka.Close()
		return nil, fmt.Errorf("start miniredis on 127.0.0.1:%d: %w", cfg.redisPort, err)
	}
	return &Embedded{kafka: kafka, redis: redis}, nil
}

// Brokers returns the bootstrap address of the kfake broker.
func (e *Embedded) Brokers() []string { return e.kafka.ListenAddrs() }

// RedisAddr returns the host:port of miniredis.
func (e *Embedded) RedisAddr() string { return e.redis.Addr() }

// Kafka returns the kfake cluster itself, for tests that inject faults through its Control hooks.
func (e *Embedded) Kafka() *kfake.Cluster { return e.kafka }

// Miniredis returns the miniredis server itself, e.g. to fast-forward TTLs in tests.
func (e *Embedded) Miniredis() *miniredis.Miniredis { return e.redis }

// Close stops both servers; open client connections are cut.
func (e *Embedded) Close() error {
	e.redis.Close()
	e.kafka.Close()
	return nil
}

// kfakeLogger forwards kfake's warnings and errors; its info level logs every request, which
// would bury everything else.
type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		k.l.Error(fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		k.l.Warn(fmt.Sprintf(format, args...))
	}
}
