package replay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Record headers that make a replay resumable: every record of a file carries the file's
// identity and its row number, so the rows of an interrupted replay that reached the topic can be
// found again.
const (
	HeaderSource = "shopease-src"
	HeaderRow    = "shopease-row"
)

// ErrResume is returned by Run when an interrupted replay cannot be resumed exactly, e.g. because
// the topic lost records it had acknowledged (deleted and recreated).
var ErrResume = errors.New("replay: cannot resume")

// rowSet is a set of row numbers (a bitmap: files have dense row numbers from 1).
type rowSet struct {
	bits []uint64
	n    int64
}

func (s *rowSet) add(row int64) {
	if row < 0 {
		return
	}
	i := row / 64
	for int64(len(s.bits)) <= i {
		s.bits = append(s.bits, 0)
	}
	if s.bits[i]&(1<<(row%64)) == 0 {
		s.bits[i] |= 1 << (row % 64)
		s.n++
	}
}

func (s *rowSet) has(row int64) bool {
	if s == nil || row < 0 {
		return false
	}
	i := row / 64
	return i < int64(len(s.bits)) && s.bits[i]&(1<<(row%64)) != 0
}

// endOffsets returns the next offset to be written in every partition of each topic.
func endOffsets(client sarama.Client, topics []string) (map[string]map[int32]int64, error) {
	out := map[string]map[int32]int64{}
	for _, t := range topics {
		parts, err := client.Partitions(t)
		if err != nil {
			return nil, fmt.Errorf("replay: partitions of %s: %w", t, err)
		}
		out[t] = map[int32]int64{}
		for _, p := range parts {
			off, err := endOffset(client, t, p)
			if err != nil {
				return nil, err
			}
			out[t][p] = off
		}
	}
	return out, nil
}

// clusterID returns the Kafka cluster's id (KIP-78), so that a manifest used against another
// cluster does not take that cluster's topics for the ones it replayed to.
func clusterID(client sarama.Client) (string, error) {
	b, err := client.Controller()
	if err != nil {
		return "", fmt.Errorf("replay: find the controller: %w", err)
	}
	resp, err := b.GetMetadata(&sarama.MetadataRequest{Version: 7, Topics: []string{}})
	if err != nil {
		return "", fmt.Errorf("replay: read the cluster id: %w", err)
	}
	if resp.ClusterID == nil {
		return "", nil
	}
	return *resp.ClusterID, nil
}

// endOffset asks the partition's leader for its end offset. A topic created a moment ago may
// have no leader yet (or the client stale metadata about it): those errors are retried for a
// few seconds with fresh metadata.
func endOffset(client sarama.Client, topic string, p int32) (int64, error) {
	var err error
	for try := 0; try < 30; try++ {
		var off int64
		off, err = client.GetOffset(topic, p, sarama.OffsetNewest)
		if err == nil {
			return off, nil
		}
		if !errors.Is(err, sarama.ErrNotLeaderForPartition) && !errors.Is(err, sarama.ErrLeaderNotAvailable) &&
			!errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			break
		}
		time.Sleep(200 * time.Millisecond)
		client.RefreshMetadata(topic)
	}
	return 0, fmt.Errorf("replay: end offset of %s/%d: %w", topic, p, err)
}

// presentRows reads, for the interrupted replays in entries, every target partition from the
// offset recorded when that replay started to the partition's current end, and returns per
// identity the row numbers already on the topics (data records and dead letters alike).
func presentRows(ctx context.Context, client sarama.Client, entries []*manifestEntry) (map[string]*rowSet, error) {
	from := map[string]map[int32]int64{}
	ids := map[string]*manifestEntry{}
	for _, e := range entries {
		ids[e.ID] = e
		for t, parts := range e.StartOffsets {
			if from[t] == nil {
				from[t] = map[int32]int64{}
			}
			for p, off := range parts {
				if cur, ok := from[t][p]; !ok || off < cur {
					from[t][p] = off
				}
			}
		}
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("%w: consumer: %w", ErrResume, err)
	}
	defer consumer.Close()
	var (
		mu    sync.Mutex
		found = map[string]*rowSet{}
		errs  []error
		wg    sync.WaitGroup
	)
	for t, parts := range from {
		for p, off := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows, err := scanPartition(ctx, client, consumer, t, p, off, ids)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				for id, rs := range rows {
					if found[id] == nil {
						found[id] = &rowSet{}
					}
					for _, r := range rs {
						found[id].add(r)
					}
				}
			}()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if got := found[e.ID]; e.Acked > 0 && (got == nil || got.n < e.Acked) {
			n := int64(0)
			if got != nil {
				n = got.n
			}
			return nil, fmt.Errorf("%w: %s: the manifest counts %d acknowledged records, the topics hold %d (were the topics recreated? replay with force)",
				ErrResume, e.Names, e.Acked, n)
		}
	}
	return found, nil
}

// scanPartition collects the row headers of records in [from, end) whose source is in ids and
// that lie at or after the start offset of that source's interrupted replay (an earlier,
// complete replay of the same file before a forced one must not count).
func scanPartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer, topic string, p int32, from int64, ids map[string]*manifestEntry) (map[string][]int64, error) {
	end, err := endOffset(client, topic, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResume, err)
	}
	if end < from {
		return nil, fmt.Errorf("%w: %s/%d ends at %d, before offset %d where the interrupted replay started (topic recreated?)", ErrResume, topic, p, end, from)
	}
	if end == from {
		return nil, nil
	}
	pc, err := consumer.ConsumePartition(topic, p, from)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s/%d from %d: %w", ErrResume, topic, p, from, err)
	}
	defer pc.Close()
	out := map[string][]int64{}
	idle := time.NewTimer(30 * time.Second)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-idle.C:
			return nil, fmt.Errorf("%w: %s/%d: no record for 30 s before offset %d", ErrResume, topic, p, end)
		case cerr := <-pc.Errors():
			return nil, fmt.Errorf("%w: read %s/%d: %w", ErrResume, topic, p, cerr)
		case msg := <-pc.Messages():
			idle.Reset(30 * time.Second)
			var src string
			row := int64(-1)
			for _, h := range msg.Headers {
				switch string(h.Key) {
				case HeaderSource:
					src = string(h.Value)
				case HeaderRow:
					row, _ = strconv.ParseInt(string(h.Value), 10, 64)
				}
			}
			if e := ids[src]; e != nil && row >= 0 {
				if msg.Offset >= e.StartOffsets[topic][p] {
					out[src] = append(out[src], row)
				}
			}
			if msg.Offset >= end-1 {
				return out, nil
			}
		}
	}
}
