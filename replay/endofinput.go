package replay

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
)

// endOfInputTopics are the raw topics that get end-of-input markers: those whose gateways forward
// them (the activity and transactions gateways; the journeys join waits for them). The inventory
// and feedback gateways would take a marker for an undecodable record.
var endOfInputTopics = []goka.Stream{topology.Activity, topology.Transactions}

// writeEndOfInput ends a run that replayed activity or transactions files with an end-of-input
// marker (event.EndOfInput) on every partition of each of those raw topics it wrote, after every
// record of the run is acknowledged: a consumer then knows each partition has delivered the whole
// input. Every marker announces the offsets of all of them, read from the partitions' ends just
// before, so the same input replayed into another namespace gets the same markers. A run that is
// interrupted before writes none; resumed, it writes them all (a resume after a crash among the
// markers writes some twice, which changes nothing downstream).
func (r *runner) writeEndOfInput(ctx context.Context, plans []*plan) error {
	var topics []string
	for _, p := range plans {
		if t := string(r.cfg.Namespace.Stream(p.ds.topic())); slices.Contains(endOfInputTopics, p.ds.topic()) && !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	if len(topics) == 0 {
		return nil
	}
	slices.Sort(topics)
	ends, err := endOffsets(r.producer.Client(), topics)
	if err != nil {
		return err
	}
	markers := map[string]int64{}
	for t, parts := range ends {
		for p, off := range parts {
			markers[t+"/"+strconv.Itoa(int(p))] = off
		}
	}
	// A producer of their own: the run's producer hands every acknowledgement to a file's counts.
	mp, err := NewProducer(r.cfg.Brokers, WithCompression(r.cfg.Compression), WithProducerLogger(r.logger),
		WithClientID("shopease-replay-end"))
	if err != nil {
		return err
	}
	header := []sarama.RecordHeader{{Key: []byte(event.HeaderControl), Value: []byte(event.ControlEndOfInput)}}
	now := time.Now()
	var sendErr error
	for _, t := range topics {
		n := len(ends[t])
		value := event.EndOfInput{Partitions: n, Markers: markers}.Encode()
		for _, k := range event.ControlKeys(n) {
			rec := &Record{Topic: t, Key: []byte(k), Value: value, Time: now, Headers: header}
			if sendErr = mp.Send(ctx, rec); sendErr != nil {
				break
			}
		}
	}
	if err := mp.Close(); err != nil && sendErr == nil {
		sendErr = err
	}
	if sendErr != nil {
		return fmt.Errorf("replay: end-of-input markers: %w", sendErr)
	}
	r.logger.Info("end-of-input markers written", "topics", topics, "markers", len(markers))
	return nil
}
