package testenv_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/shopease/shopease/testenv"
)

// TestKafkaRoundTrip checks what every suite relies on, on both environments and with the sarama
// protocol versions the project may set: topics are created through the admin API with goka's
// table config and described back, every produced record is consumed exactly once, and a topic
// nobody created does not exist (auto-creation is off on both, as in production).
func TestKafkaRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		version    sarama.KafkaVersion
		partitions int32
		records    int
	}{
		{"sarama-3.6", sarama.V3_6_0_0, 4, 1000},
		{"sarama-4.1", sarama.V4_1_0_0, 3, 250},
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cfg := sarama.NewConfig()
				cfg.Version = tc.version
				cfg.Producer.Return.Successes = true
				cfg.Producer.RequiredAcks = sarama.WaitForAll
				topic := string(testenv.Namespace(t)) + "roundtrip"

				createCompacted(t, k, cfg, topic, tc.partitions)
				sent := produce(t, k, cfg, topic, tc.records)
				got := consumeAll(t, k, cfg, topic, tc.partitions)

				if len(got) != tc.records {
					t.Fatalf("%s: consumed %d records, want %d", k.Name(), len(got), tc.records)
				}
				for key, part := range sent {
					if got[key] != part {
						t.Errorf("%s: record %s consumed from partition %d, produced to %d", k.Name(), key, got[key], part)
					}
				}
				assertNoTopic(t, k, cfg, string(testenv.Namespace(t))+"never-created")
			})
		}
	})
}

func createCompacted(t *testing.T, k testenv.Kafka, cfg *sarama.Config, topic string, partitions int32) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(k.Brokers(), cfg)
	if err != nil {
		t.Fatalf("%s: admin: %v", k.Name(), err)
	}
	defer admin.Close()
	compact := "compact"
	err = admin.CreateTopic(topic, &sarama.TopicDetail{
		NumPartitions: partitions, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"cleanup.policy": &compact},
	}, false)
	if err != nil {
		t.Fatalf("%s: create topic %s: %v", k.Name(), topic, err)
	}
	metas := describeWhenReady(t, k, admin, topic)
	if n := len(metas[0].Partitions); n != int(partitions) {
		t.Fatalf("%s: %s has %d partitions, want %d", k.Name(), topic, n, partitions)
	}
	for _, p := range metas[0].Partitions {
		if len(p.Replicas) != 1 {
			t.Errorf("%s: partition %d has replicas %v, want exactly one", k.Name(), p.ID, p.Replicas)
		}
	}
	if policy := topicConfig(t, k, admin, topic, "cleanup.policy"); policy != "compact" {
		t.Errorf("%s: cleanup.policy of %s = %q, want compact", k.Name(), topic, policy)
	}
}

// topicConfig returns the value of one config entry of topic ("" when the broker has none).
func topicConfig(t *testing.T, k testenv.Kafka, admin sarama.ClusterAdmin, topic, name string) string {
	t.Helper()
	results, err := admin.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: topic}},
		sarama.DescribeConfigsOptions{})
	if err != nil || len(results) != 1 || results[0].ErrorCode != sarama.ErrNoError {
		t.Fatalf("%s: describe config of %s: %v %+v", k.Name(), topic, err, results)
	}
	for _, e := range results[0].Configs {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// describeWhenReady polls DescribeTopics: a real broker answers CreateTopics once the controller
// has committed the topic, and its own metadata may lag a few milliseconds behind
// (LEADER_NOT_AVAILABLE); goka's topic manager waits the same way.
func describeWhenReady(t *testing.T, k testenv.Kafka, admin sarama.ClusterAdmin, topic string) []*sarama.TopicMetadata {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		metas, err := admin.DescribeTopics([]string{topic})
		if err == nil && len(metas) == 1 && errors.Is(metas[0].Err, sarama.ErrNoError) {
			return metas
		}
		if time.Now().After(deadline) {
			if err == nil && len(metas) == 1 {
				err = metas[0].Err
			}
			t.Fatalf("%s: describe %s: %v", k.Name(), topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// produce sends n records with distinct keys and returns the partition each key was written to.
func produce(t *testing.T, k testenv.Kafka, cfg *sarama.Config, topic string, n int) map[string]int32 {
	t.Helper()
	p, err := sarama.NewSyncProducer(k.Brokers(), cfg)
	if err != nil {
		t.Fatalf("%s: producer: %v", k.Name(), err)
	}
	defer p.Close()
	sent := make(map[string]int32, n)
	for i := range n {
		key := fmt.Sprintf("key-%05d", i)
		part, _, err := p.SendMessage(&sarama.ProducerMessage{
			Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(key),
			Timestamp: time.Date(2011, 11, 1, 0, 0, i, 0, time.UTC),
		})
		if err != nil {
			t.Fatalf("%s: send %s: %v", k.Name(), key, err)
		}
		sent[key] = part
	}
	return sent
}

// consumeAll reads every partition from the oldest offset up to its high-water mark and returns,
// per key, the partition it was read from; a key read twice fails the test.
func consumeAll(t *testing.T, k testenv.Kafka, cfg *sarama.Config, topic string, partitions int32) map[string]int32 {
	t.Helper()
	c, err := sarama.NewConsumer(k.Brokers(), cfg)
	if err != nil {
		t.Fatalf("%s: consumer: %v", k.Name(), err)
	}
	defer c.Close()
	ids, err := c.Partitions(topic)
	if err != nil || len(ids) != int(partitions) {
		t.Fatalf("%s: partitions of %s: %v %v", k.Name(), topic, ids, err)
	}
	got := map[string]int32{}
	for _, id := range ids {
		pc, err := c.ConsumePartition(topic, id, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("%s: consume %s/%d: %v", k.Name(), topic, id, err)
		}
		hwm := pc.HighWaterMarkOffset()
		for offset := int64(0); offset < hwm; offset++ {
			select {
			case m := <-pc.Messages():
				key := string(m.Key)
				if _, dup := got[key]; dup {
					t.Errorf("%s: %s read twice", k.Name(), key)
				}
				if string(m.Value) != key {
					t.Errorf("%s: %s has value %q", k.Name(), key, m.Value)
				}
				got[key] = id
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: %s/%d: no record at offset %d of %d", k.Name(), topic, id, offset, hwm)
			}
		}
		_ = pc.Close()
	}
	return got
}

func assertNoTopic(t *testing.T, k testenv.Kafka, cfg *sarama.Config, topic string) {
	t.Helper()
	client, err := sarama.NewClient(k.Brokers(), cfg)
	if err != nil {
		t.Fatalf("%s: client: %v", k.Name(), err)
	}
	defer client.Close()
	topics, err := client.Topics()
	if err != nil {
		t.Fatalf("%s: list topics: %v", k.Name(), err)
	}
	sort.Strings(topics)
	if i := sort.SearchStrings(topics, topic); i < len(topics) && topics[i] == topic {
		t.Errorf("%s: topic %s exists although nobody created it", k.Name(), topic)
	}
	if _, err := client.Partitions(topic); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		t.Errorf("%s: partitions of uncreated %s: err %v, want %v", k.Name(), topic, err, sarama.ErrUnknownTopicOrPartition)
	}
}
