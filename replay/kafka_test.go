package replay

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
)

// testPartitions is the partition count of the topics the tests create.
const testPartitions = 4

// createTopics creates the raw topics of ns, as `shopease topics create` does.
func createTopics(t testing.TB, brokers []string, ns topology.Namespace) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, saramaConfig("replay-test"))
	if err != nil {
		t.Fatalf("cluster admin: %v", err)
	}
	defer admin.Close()
	for _, tp := range topology.RawTopics {
		err := admin.CreateTopic(string(ns.Stream(tp.Name)), &sarama.TopicDetail{NumPartitions: testPartitions, ReplicationFactor: 1}, false)
		if err != nil {
			t.Fatalf("create topic %s: %v", ns.Stream(tp.Name), err)
		}
	}
}

// topicRecord is a record read back from a topic.
type topicRecord struct {
	partition int32
	offset    int64
	key       string
	value     []byte
	time      time.Time
	src       string
	row       int64
	marker    bool // an end-of-input marker (event.HeaderControl)
}

// readTopic reads every record of topic from the beginning to its current end.
func readTopic(t testing.TB, brokers []string, topic string) []topicRecord {
	t.Helper()
	client, err := sarama.NewClient(brokers, saramaConfig("replay-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ends, err := endOffsets(client, []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var (
		mu  sync.Mutex
		out []topicRecord
		wg  sync.WaitGroup
	)
	for p, end := range ends[topic] {
		if end == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := readPartition(consumer, topic, p, end)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			out = append(out, recs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func readPartition(consumer sarama.Consumer, topic string, p int32, end int64) ([]topicRecord, error) {
	pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	var out []topicRecord
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m := <-pc.Messages():
			r := topicRecord{partition: p, offset: m.Offset, key: string(m.Key), value: m.Value, time: m.Timestamp, row: -1}
			for _, h := range m.Headers {
				switch string(h.Key) {
				case HeaderSource:
					r.src = string(h.Value)
				case HeaderRow:
					r.row, _ = strconv.ParseInt(string(h.Value), 10, 64)
				case event.HeaderControl:
					r.marker = string(h.Value) == event.ControlEndOfInput
				}
			}
			out = append(out, r)
			if m.Offset >= end-1 {
				return out, nil
			}
		case err := <-pc.Errors():
			return nil, fmt.Errorf("read %s/%d: %w", topic, p, err)
		case <-timeout:
			return nil, fmt.Errorf("read %s/%d: timeout before offset %d", topic, p, end)
		}
	}
}

// duplicates counts records whose (source, row) pair appeared before, and records without one.
func duplicates(recs []topicRecord) (dups, unlabeled int) {
	seen := map[string]bool{}
	for _, r := range recs {
		if r.src == "" || r.row < 0 {
			unlabeled++
			continue
		}
		k := fmt.Sprintf("%s/%d", r.src, r.row)
		if seen[k] {
			dups++
		}
		seen[k] = true
	}
	return dups, unlabeled
}

// testConfig is a replay config for a test: its own manifest and rejects file.
func testConfig(t testing.TB, brokers []string, ns topology.Namespace, paths ...string) Config {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Paths = paths
	cfg.Brokers = brokers
	cfg.Namespace = ns
	cfg.ManifestPath = dir + "/manifest.json"
	cfg.RejectsPath = dir + "/rejects.ndjson"
	cfg.Partitions = testPartitions
	return cfg
}

func run(t testing.TB, cfg Config) *Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return s
}
