package cluster

import (
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// outputTimeout bounds the waits of EnsureOutputs: a broker may not list a topic in the first
// moments after it was created, nor have elected its partitions' leaders.
const outputTimeout = 30 * time.Second

// EnsureOutputs creates a processor's output streams and group tables, when missing, with the
// partition count of its input in (so that whatever joins them later stays co-partitioned), and
// waits until every partition has a leader. goka creates a processor's table only as it starts
// and never its output streams; on a real broker a processor that starts before a just-created
// topic's leaders are elected fails with "not the leader". Names are taken as given (already
// namespaced).
func (c *Config) EnsureOutputs(in goka.Stream, streams []goka.Stream, tables []goka.Table) error {
	if err := c.Validate(); err != nil {
		return err
	}
	tm, err := c.TopicManager()
	if err != nil {
		return err
	}
	defer tm.Close()
	var parts []int32
	deadline := time.Now().Add(outputTimeout)
	for {
		if parts, err = tm.Partitions(string(in)); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("cluster: partitions of input %s: %w", in, err)
	}
	// Processors that share an output (the gateway writes a clean topic its consumers also
	// ensure) race to create it: the loser's "already exists" is success when the topic is there
	// with the partition count wanted (goka wraps the broker's error as text, so it is checked by
	// looking, not by errors.Is).
	exists := func(name string, err error) error {
		if err == nil {
			return nil
		}
		if got, perr := tm.Partitions(name); perr == nil && len(got) == len(parts) {
			return nil
		}
		return err
	}
	var created []string
	for _, s := range streams {
		if err := exists(string(s), tm.EnsureStreamExists(string(s), len(parts))); err != nil {
			return fmt.Errorf("cluster: create stream %s: %w", s, err)
		}
		created = append(created, string(s))
	}
	for _, t := range tables {
		if err := exists(string(t), tm.EnsureTableExists(string(t), len(parts))); err != nil {
			return fmt.Errorf("cluster: create table %s: %w", t, err)
		}
		created = append(created, string(t))
	}
	for _, topic := range created {
		for p := int32(0); p < int32(len(parts)); p++ {
			for {
				_, err := tm.GetOffset(topic, p, sarama.OffsetOldest)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("cluster: %s/%d has no leader after %s: %w", topic, p, outputTimeout, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	return nil
}
