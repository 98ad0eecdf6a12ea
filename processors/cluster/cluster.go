package cluster

import (
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/redis/go-redis/v9"

	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
)

// KafkaVersion is the protocol version sarama speaks. goka's default (2.0) predates features the
// Kafka 4.x brokers rely on, and sarama needs an explicit version to use record headers and
// timestamps; 3.6 is understood by Kafka 4.x and by kfake.
var KafkaVersion = sarama.V3_6_0_0

// ErrNoBrokers is returned by Config.Validate when no broker address is given.
var ErrNoBrokers = errors.New("cluster: no brokers given")

// ErrNoPseudonyms is returned by RequirePseudonyms when no Pseudonymizer is configured.
var ErrNoPseudonyms = errors.New("cluster: no pseudonymization key configured")

// Config describes how processors reach Kafka and where they keep local state.
type Config struct {
	// Brokers are the bootstrap addresses (host:port).
	Brokers []string
	// Namespace prefixes every topic and group name (see topology.Namespace).
	Namespace topology.Namespace
	// DataDir holds the local table state (one subfolder per group or view).
	DataDir string
	// Replication of the topics goka creates (table changelogs, output streams). 1 on a one-broker cluster.
	Replication int
	// ClientID names this instance in the broker's logs and metrics.
	ClientID string
	// Storage builds the local store of a processor's tables, given its folder. Nil means memory
	// (never goka's default, a LevelDB under /tmp/goka shared by every process on the machine);
	// the cli wires Pebble.
	Storage func(dir string) storage.Builder
	// Logger receives goka's and sarama's log lines.
	Logger *slog.Logger
	// Pseudonyms maps raw user ids to pseudonyms in the gateways. Required by processors that read
	// user ids; Validate does not invent one (production must never run on a default key).
	Pseudonyms *pseudonym.Pseudonymizer
	// Observer is told the outcome of every record a gateway reads (default: none).
	Observer outcome.Observer
	// RedisAddr is the Redis server (host:port) the real-time metrics are written to; empty: the
	// realtime processor runs without writing to Redis.
	RedisAddr string
	// RedisKeyPrefix puts every Redis key under a prefix (empty: "shopease:"; docs/redis.md).
	RedisKeyPrefix string
	// FetchBytes is what a processor's consumer asks the broker for per partition and fetch
	// (0: DefaultFetchBytes). A processor's memory grows with its partitions × FetchBytes (the
	// decoded batches wait in the consumer's channel buffers); larger fetches feed a partition's
	// goroutine better while the next fetch is under way (docs/decisions.md 10).
	FetchBytes int32
	// RedisFlushInterval is how often the realtime processor's Redis sink writes what changed
	// (0: redissink.DefaultFlushInterval): the bound on a change's wait before Redis has it.
	RedisFlushInterval time.Duration
	// RedisHooks are added to the Redis client the realtime processor makes (the dashboard's
	// /metrics times the sink's pipelines with one).
	RedisHooks []redis.Hook
}

// Validate checks c and fills defaults.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return ErrNoBrokers
	}
	if c.Replication <= 0 {
		c.Replication = 1
	}
	if c.ClientID == "" {
		c.ClientID = "shopease"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = outcome.Nop{}
	}
	if c.RedisFlushInterval < 0 {
		return fmt.Errorf("cluster: Redis flush interval %s < 0", c.RedisFlushInterval)
	}
	if c.FetchBytes < 0 {
		return fmt.Errorf("cluster: fetch bytes %d < 0", c.FetchBytes)
	}
	if c.FetchBytes == 0 {
		c.FetchBytes = DefaultFetchBytes
	}
	return nil
}

// DefaultFetchBytes is Config.FetchBytes's default: 1 MiB. With 8 MiB the gateways alone held
// 1.4 GB while backfilling 1M events (640 MB live heap, 40% of it decompressed fetch batches),
// with 1 MiB 590–655 MB, at the same wall time (docs/decisions.md 10).
const DefaultFetchBytes = 1 << 20

// Sarama returns a fresh sarama config with the settings every ShopEase client needs.
func (c *Config) Sarama() *sarama.Config {
	sc := goka.DefaultConfig()
	sc.ClientID = c.ClientID
	sc.Version = KafkaVersion
	// goka's default starts a new group at the newest offset, which silently skips every record
	// written before the group first joined (e.g. a replay that ran before `shopease run`).
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	sc.Producer.Compression = sarama.CompressionLZ4
	sc.Producer.RequiredAcks = sarama.WaitForAll
	// Exactness downstream rests on records of one origin reaching a partition in the order they
	// were emitted (package fence), and so does the compacted changelog keeping each key's last
	// value: ordered, idempotent delivery — one request in flight per broker, broker-side dedupe of
	// retried batches.
	sc.Producer.Idempotent = true
	sc.Net.MaxOpenRequests = 1
	// A member that joins while a crashed one still holds its place waits in JoinGroup until the
	// coordinator gives up on the old one — up to the rebalance timeout. That wait must end before
	// the request's read timeout, or a restart after SIGKILL fails with an i/o timeout.
	sc.Consumer.Group.Rebalance.Timeout = 20 * time.Second
	sc.Net.ReadTimeout = 45 * time.Second
	// Throughput and latency of the group (docs/decisions.md, bench.BenchmarkStream): goka's
	// defaults hold a produce batch up to 100 ms or 64 KiB, but with one request in flight per
	// broker records gather while the previous request is out anyway, so a short linger only cuts
	// the wait of a lone record; larger fetches and channel buffers keep a partition's goroutine fed
	// while the next fetch is under way. Measured on the activity gateway, alternating runs: 51k →
	// 74k events/s (median of 3), the same CPU per event. The fetch size is c.FetchBytes: the 8 MiB
	// of that measurement cost memory a backfill did not gain time from (DefaultFetchBytes).
	sc.Producer.Flush.Frequency = 5 * time.Millisecond
	sc.Producer.Flush.Bytes = 1 << 20
	sc.Consumer.Fetch.Default = c.FetchBytes
	if sc.Consumer.Fetch.Default <= 0 {
		sc.Consumer.Fetch.Default = DefaultFetchBytes
	}
	sc.ChannelBufferSize = 1024
	sc.Metadata.Retry.Max = 10
	sc.Metadata.Retry.Backoff = 500 * time.Millisecond
	return sc
}

// TopicManagerConfig returns goka's topic manager settings: replication as configured and
// table changelogs compacted (goka's default) so that recovery reads one value per key.
func (c *Config) TopicManagerConfig() *goka.TopicManagerConfig {
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = c.Replication
	tm.Stream.Replication = c.Replication
	// goka creates output streams with retention.ms=3600000, and Kafka measures retention against
	// record timestamps: a replay of 2011 history would be deleted at the next retention check.
	// -1 ms becomes retention.ms=-1 (keep forever); operators shorten it per topic if they want.
	tm.Stream.Retention = -time.Millisecond
	// A table or stream created earlier with another partition count or replication must stop the
	// processor, not be used: joins would silently go wrong.
	tm.MismatchBehavior = goka.TMConfigMismatchBehaviorFail
	tm.CreateTopicTimeout = 30 * time.Second
	return tm
}

// Every goka builder gets a sarama config of its own: goka's *BuilderWithConfig functions write the
// client id (and the producer's partitioner) into the config on each call, while clients built
// earlier from it read it — one shared config is a data race (found by -race in testenv).

func (c *Config) topicManagerBuilder() goka.TopicManagerBuilder {
	return func(brokers []string) (goka.TopicManager, error) {
		return goka.NewTopicManager(brokers, c.Sarama(), c.TopicManagerConfig())
	}
}

func (c *Config) consumerGroupBuilder() goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return goka.ConsumerGroupBuilderWithConfig(c.Sarama())(brokers, group, clientID)
	}
}

func (c *Config) consumerBuilder() goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		return goka.SaramaConsumerBuilderWithConfig(c.Sarama())(brokers, clientID)
	}
}

func (c *Config) producerBuilder() goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		return goka.ProducerBuilderWithConfig(c.Sarama())(brokers, clientID, hasher)
	}
}

// ProcessorOptions returns the goka options a processor of group g is built with. Extra options
// (a tester in unit tests) come last and override.
func (c *Config) ProcessorOptions(g goka.Group, extra ...goka.ProcessorOption) []goka.ProcessorOption {
	opts := []goka.ProcessorOption{
		goka.WithClientID(c.ClientID),
		goka.WithTopicManagerBuilder(c.topicManagerBuilder()),
		goka.WithConsumerGroupBuilder(c.consumerGroupBuilder()),
		goka.WithConsumerSaramaBuilder(c.consumerBuilder()),
		goka.WithProducerBuilder(c.producerBuilder()),
		goka.WithLogger(newGokaLogger(c.Logger, string(g))),
	}
	opts = append(opts, goka.WithStorageBuilder(c.storage(filepath.Join(c.DataDir, "processor", string(g)))))
	return append(opts, extra...)
}

// ViewOptions returns the goka options of a view on table t.
func (c *Config) ViewOptions(t goka.Table, extra ...goka.ViewOption) []goka.ViewOption {
	opts := []goka.ViewOption{
		goka.WithViewClientID(c.ClientID),
		goka.WithViewTopicManagerBuilder(c.topicManagerBuilder()),
		goka.WithViewConsumerSaramaBuilder(c.consumerBuilder()),
		goka.WithViewLogger(newGokaLogger(c.Logger, "view "+string(t))),
	}
	opts = append(opts, goka.WithViewStorageBuilder(c.storage(filepath.Join(c.DataDir, "view", string(t)))))
	return append(opts, extra...)
}

func (c *Config) storage(dir string) storage.Builder {
	if c.Storage == nil {
		return storage.MemoryBuilder()
	}
	return c.guardStale(dir, c.Storage(dir))
}

// EmitterOptions returns the goka options of an emitter.
func (c *Config) EmitterOptions(extra ...goka.EmitterOption) []goka.EmitterOption {
	opts := []goka.EmitterOption{
		goka.WithEmitterClientID(c.ClientID),
		goka.WithEmitterTopicManagerBuilder(c.topicManagerBuilder()),
		goka.WithEmitterProducerBuilder(c.producerBuilder()),
		goka.WithEmitterLogger(newGokaLogger(c.Logger, "emitter")),
	}
	return append(opts, extra...)
}

// TopicManager connects goka's topic manager, used to create input streams (goka never creates
// them itself) and to read partition counts.
func (c *Config) TopicManager() (goka.TopicManager, error) {
	tm, err := goka.NewTopicManager(c.Brokers, c.Sarama(), c.TopicManagerConfig())
	if err != nil {
		return nil, fmt.Errorf("cluster: connect topic manager to %v: %w", c.Brokers, err)
	}
	return tm, nil
}

// RequirePseudonyms returns the Pseudonymizer, or ErrNoPseudonyms: processors that handle user ids
// call it in their constructor so that a missing key stops them before they read anything.
func (c *Config) RequirePseudonyms() (*pseudonym.Pseudonymizer, error) {
	if c.Pseudonyms == nil {
		return nil, ErrNoPseudonyms
	}
	return c.Pseudonyms, nil
}
