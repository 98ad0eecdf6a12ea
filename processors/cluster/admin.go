package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors/topology"
)

// ErrPartitionMismatch is returned by EnsureTopics when a topic exists with another partition count
// than asked for: joins would silently break, so it is never ignored.
var ErrPartitionMismatch = errors.New("cluster: existing topic has a different partition count")

// TopicInfo is what DescribeTopics reports of one topic.
type TopicInfo struct {
	Name        string
	Partitions  int32
	Replication int16
	Cleanup     string // cleanup.policy: delete or compact
	Retention   string // retention.ms as configured on the topic ("" when the broker default applies)
	Exists      bool
}

// TopicResult says what EnsureTopics did with one topic.
type TopicResult struct {
	Name    string
	Created bool
}

// Admin opens a sarama cluster admin with the project's client settings. Close it after use.
func (c *Config) Admin() (sarama.ClusterAdmin, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	a, err := sarama.NewClusterAdmin(c.Brokers, c.Sarama())
	if err != nil {
		return nil, fmt.Errorf("cluster: connect admin to %s: %w", strings.Join(c.Brokers, ","), err)
	}
	return a, nil
}

// EnsureTopics creates the raw topics of the topology in c's namespace with the given partition
// count and c's replication, and checks existing ones have that count.
func (c *Config) EnsureTopics(partitions int32) ([]TopicResult, error) {
	a, err := c.Admin()
	if err != nil {
		return nil, err
	}
	defer a.Close()
	existing, err := a.ListTopics()
	if err != nil {
		return nil, fmt.Errorf("cluster: list topics: %w", err)
	}
	var out []TopicResult
	for _, t := range topology.RawTopics {
		name := string(c.Namespace.Stream(t.Name))
		if d, ok := existing[name]; ok {
			if d.NumPartitions != partitions {
				return out, fmt.Errorf("%w: %s has %d, want %d (delete it or use --partitions %d)",
					ErrPartitionMismatch, name, d.NumPartitions, partitions, d.NumPartitions)
			}
			out = append(out, TopicResult{Name: name})
			continue
		}
		keep := "-1" // history is replayed with its old timestamps: time-based retention would delete it
		err := a.CreateTopic(name, &sarama.TopicDetail{
			NumPartitions:     partitions,
			ReplicationFactor: int16(c.Replication),
			ConfigEntries:     map[string]*string{"retention.ms": &keep},
		}, false)
		if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return out, fmt.Errorf("cluster: create %s: %w", name, err)
		}
		out = append(out, TopicResult{Name: name, Created: err == nil})
	}
	return out, waitListed(a, out)
}

// waitListed returns once the broker lists every topic of res: a real broker answers
// CreateTopics before its metadata shows the new topic, and a describe or a replay started right
// after `topics create` must not find it missing.
func waitListed(a sarama.ClusterAdmin, res []TopicResult) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		listed, err := a.ListTopics()
		missing := ""
		for _, r := range res {
			if _, ok := listed[r.Name]; !ok && err == nil {
				missing = r.Name
				break
			}
		}
		if err == nil && missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("cluster: list topics: %w", err)
			}
			return fmt.Errorf("%w: %s not listed 30 s after it was created", topology.ErrMissingTopic, missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// DescribeTopics reports every topic of c's namespace that starts with "shopease" (raw topics,
// and the topics goka created for tables and outputs) plus raw topics that are missing, and
// checks that the raw topics are co-partitioned.
func (c *Config) DescribeTopics() ([]TopicInfo, error) {
	a, err := c.Admin()
	if err != nil {
		return nil, err
	}
	defer a.Close()
	existing, err := a.ListTopics()
	if err != nil {
		return nil, fmt.Errorf("cluster: list topics: %w", err)
	}
	prefix := string(c.Namespace) + "shopease"
	var out []TopicInfo
	for name, d := range existing {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		info := TopicInfo{Name: name, Partitions: d.NumPartitions, Replication: d.ReplicationFactor, Exists: true, Cleanup: "delete"}
		if v, ok := d.ConfigEntries["cleanup.policy"]; ok && v != nil {
			info.Cleanup = *v
		}
		if v, ok := d.ConfigEntries["retention.ms"]; ok && v != nil {
			info.Retention = *v
		}
		out = append(out, info)
	}
	counts := map[string]int32{}
	for name, d := range existing {
		counts[name] = d.NumPartitions
	}
	var raw []string
	for _, t := range topology.RawTopics {
		name := string(c.Namespace.Stream(t.Name))
		raw = append(raw, name)
		if _, ok := existing[name]; !ok {
			out = append(out, TopicInfo{Name: name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, topology.CheckCopartitioned(counts, raw...)
}

// HighWaterMark returns the offset the next record of topic/partition will get. Table recovery
// asks it once per partition to show progress and an ETA.
func (c *Config) HighWaterMark(ctx context.Context, topic string, partition int32) (int64, error) {
	client, err := sarama.NewClient(c.Brokers, c.Sarama())
	if err != nil {
		return 0, fmt.Errorf("cluster: connect to %s: %w", strings.Join(c.Brokers, ","), err)
	}
	defer client.Close()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	off, err := client.GetOffset(topic, partition, sarama.OffsetNewest)
	if err != nil {
		return 0, fmt.Errorf("cluster: high-water mark of %s/%d: %w", topic, partition, err)
	}
	return off, nil
}

// Lag returns how many records of its input topics the consumer group g has not committed yet,
// summed over partitions (a group that never committed counts from the start of each partition).
// Lag 0 means the group has processed everything written so far.
func (c *Config) Lag(g goka.Group, inputs ...goka.Stream) (int64, error) {
	client, err := sarama.NewClient(c.Brokers, c.Sarama())
	if err != nil {
		return 0, fmt.Errorf("cluster: connect to %s: %w", strings.Join(c.Brokers, ","), err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return 0, fmt.Errorf("cluster: admin: %w", err)
	}
	parts := map[string][]int32{}
	for _, in := range inputs {
		ps, err := client.Partitions(string(in))
		if err != nil {
			return 0, fmt.Errorf("cluster: partitions of %s: %w", in, err)
		}
		parts[string(in)] = ps
	}
	committed, err := admin.ListConsumerGroupOffsets(string(g), parts)
	if errors.Is(err, sarama.ErrGroupIDNotFound) {
		// kfake's answer for a group that never committed; Kafka answers with offset -1.
		committed, err = &sarama.OffsetFetchResponse{}, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: offsets of group %s: %w", g, err)
	}
	var lag int64
	for topic, ps := range parts {
		for _, p := range ps {
			hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
			if err != nil {
				return 0, fmt.Errorf("cluster: high-water mark of %s/%d: %w", topic, p, err)
			}
			done := int64(0)
			if b := committed.GetBlock(topic, p); b != nil && b.Offset > 0 {
				done = b.Offset
			}
			if hwm > done {
				lag += hwm - done
			}
		}
	}
	return lag, nil
}
