package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/testenv"
)

// gokaSaramaConfig is the sarama configuration proven here to run goka processors, views and
// emitters on kfake and on Apache Kafka 4.1; processors/cluster builds the production one alike.
func gokaSaramaConfig() *sarama.Config {
	c := goka.DefaultConfig() // goka's copartitioning rebalance strategy, producer retries, ...
	// goka's default (2.0) speaks request versions Kafka 4.x removed (KIP-896); 3.6 is the oldest
	// we test, and both environments also accept sarama.V4_1_0_0.
	c.Version = sarama.V3_6_0_0
	// goka's default (newest) makes a new group skip everything written before it first joined.
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Producer.RequiredAcks = sarama.WaitForAll
	return c
}

// gokaTopicManagerConfig creates table and stream topics as a one-broker cluster can hold them.
func gokaTopicManagerConfig() *goka.TopicManagerConfig {
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = 1 // goka's default 2 cannot be placed on one broker
	tm.Stream.Replication = 1
	// goka creates streams with retention.ms = 1 h by default, and Kafka measures retention
	// against record timestamps: replayed history (event time in 2011) would be deleted within
	// minutes. -1 ms is rendered as retention.ms=-1, i.e. keep forever.
	tm.Stream.Retention = -time.Millisecond
	// A table topic with the wrong partition count or cleanup policy must stop the processor.
	tm.MismatchBehavior = goka.TMConfigMismatchBehaviorFail
	return tm
}

// goka's *BuilderWithConfig functions write ClientID (and the producer's partitioner) into the
// config they were given on every call, while clients built earlier from that config read it: the
// race detector flags that as soon as a processor, a view and an emitter share one config, or a
// builder is called twice. These builders hand goka a fresh config on every call instead.

func producerBuilder() goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		return goka.ProducerBuilderWithConfig(gokaSaramaConfig())(brokers, clientID, hasher)
	}
}

func consumerGroupBuilder() goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return goka.ConsumerGroupBuilderWithConfig(gokaSaramaConfig())(brokers, group, clientID)
	}
}

func saramaConsumerBuilder() goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		return goka.SaramaConsumerBuilderWithConfig(gokaSaramaConfig())(brokers, clientID)
	}
}

func topicManagerBuilder() goka.TopicManagerBuilder {
	return func(brokers []string) (goka.TopicManager, error) {
		return goka.NewTopicManager(brokers, gokaSaramaConfig(), gokaTopicManagerConfig())
	}
}

type discardLogger struct{}

func (discardLogger) Print(...any)          {}
func (discardLogger) Println(...any)        {}
func (discardLogger) Printf(string, ...any) {}

// TestGokaGroupTable runs a counting processor with a group table, an emitter and a view on both
// environments. Records emitted before the processor first starts must be counted (initial offset
// oldest), and the changelog topic goka creates must be compacted with one replica.
func TestGokaGroupTable(t *testing.T) {
	const keys, before, after, partitions = 12, 600, 120, 4
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		input, group := ns.Stream("clicks"), ns.Group("counts")
		tmb := topicManagerBuilder()

		tm, err := tmb(k.Brokers())
		if err != nil {
			t.Fatalf("%s: topic manager: %v", k.Name(), err)
		}
		if err := tm.EnsureStreamExists(string(input), partitions); err != nil {
			t.Fatalf("%s: create %s: %v", k.Name(), input, err)
		}
		_ = tm.Close()

		emitter, err := goka.NewEmitter(k.Brokers(), input, new(codec.String),
			goka.WithEmitterTopicManagerBuilder(tmb),
			goka.WithEmitterProducerBuilder(producerBuilder()),
			goka.WithEmitterLogger(discardLogger{}))
		if err != nil {
			t.Fatalf("%s: emitter: %v", k.Name(), err)
		}
		defer emitter.Finish()
		emit(t, emitter, keys, before)

		ctx, cancel := context.WithCancel(context.Background())
		done := runCounter(ctx, t, k, input, group)
		view := runView(ctx, t, k, goka.GroupTable(group))
		waitCounts(t, k, view, keys, before/keys)

		emit(t, emitter, keys, after)
		waitCounts(t, k, view, keys, (before+after)/keys)

		assertTopics(t, k, string(goka.GroupTable(group)), string(input), partitions)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: processor stopped with %v, want nil", k.Name(), err)
		}
	})
}

// emit sends n records round-robin over keys and waits for all acks. Emitting asynchronously
// matters: EmitSync waits out the producer's 100 ms flush interval on every record.
func emit(t *testing.T, e *goka.Emitter, keys, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		p, err := e.Emit(fmt.Sprintf("user-%02d", i%keys), "click")
		if err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
		p.Then(func(err error) { errs <- err })
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("emit: %v", err)
		}
	}
}

func runCounter(ctx context.Context, t *testing.T, k testenv.Kafka, input goka.Stream, group goka.Group) <-chan error {
	t.Helper()
	count := func(gctx goka.Context, _ any) {
		n, _ := gctx.Value().(int64)
		gctx.SetValue(n + 1)
	}
	g := goka.DefineGroup(group, goka.Input(input, new(codec.String), count), goka.Persist(new(codec.Int64)))
	p, err := goka.NewProcessor(k.Brokers(), g,
		goka.WithTopicManagerBuilder(topicManagerBuilder()),
		goka.WithConsumerGroupBuilder(consumerGroupBuilder()),
		goka.WithConsumerSaramaBuilder(saramaConsumerBuilder()),
		goka.WithProducerBuilder(producerBuilder()),
		goka.WithStorageBuilder(storage.MemoryBuilder()),
		goka.WithLogger(discardLogger{}))
	if err != nil {
		t.Fatalf("%s: processor: %v", k.Name(), err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return done
}

func runView(ctx context.Context, t *testing.T, k testenv.Kafka, table goka.Table) *goka.View {
	t.Helper()
	view, err := goka.NewView(k.Brokers(), table, new(codec.Int64),
		goka.WithViewTopicManagerBuilder(topicManagerBuilder()),
		goka.WithViewConsumerSaramaBuilder(saramaConsumerBuilder()),
		goka.WithViewStorageBuilder(storage.MemoryBuilder()),
		goka.WithViewLogger(discardLogger{}))
	if err != nil {
		t.Fatalf("%s: view: %v", k.Name(), err)
	}
	go func() {
		// The table topic appears only once the processor has created it; retry until then.
		for ctx.Err() == nil {
			if err := view.Run(ctx); err == nil || errors.Is(err, context.Canceled) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return view
}

// waitCounts waits until every key's count equals want; it fails on a count above want at once
// (a record counted twice never comes back down).
func waitCounts(t *testing.T, k testenv.Kafka, view *goka.View, keys int, want int64) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ok := true
		for i := range keys {
			key := fmt.Sprintf("user-%02d", i)
			v, err := view.Get(key)
			n, _ := v.(int64)
			if err == nil && n > want {
				t.Fatalf("%s: %s counted %d, want %d", k.Name(), key, n, want)
			}
			if err != nil || n != want {
				ok, last = false, fmt.Sprintf("%s = %d (err %v)", key, n, err)
				break
			}
		}
		if ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: counts did not reach %d within 90s; last %s", k.Name(), want, last)
}

// assertTopics checks the topics goka created: the table compacted with one replica per partition,
// the stream kept forever (replayed history has old timestamps).
func assertTopics(t *testing.T, k testenv.Kafka, topic, stream string, partitions int) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(k.Brokers(), gokaSaramaConfig())
	if err != nil {
		t.Fatalf("%s: admin: %v", k.Name(), err)
	}
	defer admin.Close()
	metas, err := admin.DescribeTopics([]string{topic})
	if err != nil || len(metas) != 1 || len(metas[0].Partitions) != partitions {
		t.Fatalf("%s: table topic %s: %v %+v", k.Name(), topic, err, metas)
	}
	for _, p := range metas[0].Partitions {
		if len(p.Replicas) != 1 {
			t.Errorf("%s: %s/%d replicas %v, want one", k.Name(), topic, p.ID, p.Replicas)
		}
	}
	if policy := topicConfig(t, k, admin, topic, "cleanup.policy"); policy != "compact" {
		t.Errorf("%s: %s cleanup.policy %q, want compact", k.Name(), topic, policy)
	}
	if ret := topicConfig(t, k, admin, stream, "retention.ms"); ret != "-1" {
		t.Errorf("%s: %s retention.ms %q, want -1", k.Name(), stream, ret)
	}
}
