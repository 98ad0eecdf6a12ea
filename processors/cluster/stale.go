package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrTopicUnknown is returned when a table's changelog topic is not in the cluster's metadata.
var ErrTopicUnknown = errors.New("cluster: topic unknown to the cluster")

// topicIDSuffix names the file beside a table partition's dir that holds the id of the changelog
// topic the partition's local state was built from.
const topicIDSuffix = ".topic-id"

// guardStale wraps a storage builder so that local state built from a changelog topic that no
// longer exists is never served (lovoo/goka #415). Kafka gives every topic a unique id; the id of
// the changelog a partition was built from is kept beside its dir (<dir>/<topic>.<partition>.topic-id).
// When the topic of that name now has another id — it was deleted and created again, a namespace
// reset or a rebuilt cluster — the partition's local state is removed before it is opened and goka
// rebuilds it from the new changelog. Without this goka resumes from the stored offset: it stops
// with "our cache has one" when the new topic is shorter, and silently serves the old state plus a
// gap when it is longer (issue 11 case 5).
func (c *Config) guardStale(dir string, inner storage.Builder) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		id, err := c.topicID(topic)
		if err != nil {
			return nil, err
		}
		part := filepath.Join(dir, fmt.Sprintf("%s.%d", topic, partition)) // tables.PartitionDir's layout
		marker := part + topicIDSuffix
		old, err := os.ReadFile(marker)
		switch {
		case errors.Is(err, os.ErrNotExist):
			// New state, or state from before the marker existed: it belongs to this topic from now.
		case err != nil:
			return nil, fmt.Errorf("cluster: read %s: %w", marker, err)
		case strings.TrimSpace(string(old)) != id:
			c.Logger.Warn("local table state was built from a changelog topic that was deleted since; removing it and rebuilding from the new topic",
				"topic", topic, "partition", partition, "dir", part, "old_topic_id", strings.TrimSpace(string(old)), "topic_id", id)
			if err := os.RemoveAll(part); err != nil {
				return nil, fmt.Errorf("cluster: remove stale state %s: %w", part, err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cluster: data dir: %w", err)
		}
		if err := os.WriteFile(marker, []byte(id+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("cluster: write %s: %w", marker, err)
		}
		return inner(topic, partition)
	}
}

// topicID returns the cluster's unique id of topic.
func (c *Config) topicID(topic string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...))
	if err != nil {
		return "", fmt.Errorf("cluster: connect to %s: %w", strings.Join(c.Brokers, ","), err)
	}
	defer cl.Close()
	// A broker answers CreateTopics before its metadata lists the topic: a table created a moment
	// ago may be unknown for a few hundred milliseconds.
	for {
		details, err := kadm.NewClient(cl).ListTopics(ctx, topic)
		if err != nil {
			return "", fmt.Errorf("cluster: id of topic %s: %w", topic, err)
		}
		d, ok := details[topic]
		if ok && d.Err == nil {
			return d.ID.String(), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %s (%v)", ErrTopicUnknown, topic, d.Err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
