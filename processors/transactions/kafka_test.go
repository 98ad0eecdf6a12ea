package transactions_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
)

// rawRecord is one record for the raw transactions topic.
type rawRecord struct {
	key   string
	value []byte
}

// emitRaw writes records to the raw transactions topic in order, through goka's emitter (the same
// hash partitioner as the processor), and waits until the broker has them all.
func emitRaw(t *testing.T, cfg cluster.Config, recs []rawRecord) {
	t.Helper()
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Transactions), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(recs))
	for _, r := range recs {
		p, err := em.Emit(r.key, r.value)
		if err != nil {
			t.Fatal(err)
		}
		p.Then(func(err error) { errs <- err })
	}
	if err := em.Finish(); err != nil {
		t.Fatal(err)
	}
	for range recs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// startGateway creates the output topics, runs the gateway until it is ready and returns a function
// that stops it cleanly.
func startGateway(t *testing.T, cfg cluster.Config) func() {
	t.Helper()
	if err := transactions.EnsureOutputs(cfg); err != nil {
		t.Fatal(err)
	}
	p, err := transactions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	readyCtx, readyCancel := context.WithTimeout(ctx, 90*time.Second)
	defer readyCancel()
	if err := p.WaitForReadyContext(readyCtx); err != nil {
		cancel()
		t.Fatalf("gateway not ready: %v (run: %v)", err, <-done)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("gateway: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Error("gateway did not stop within 60 s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitObserved waits until the observer has seen n records of the gateway, or until it has seen
// nothing new for a minute (a shared, loaded machine can be slow, but it is never stuck that long).
func waitObserved(t *testing.T, c *outcome.Counts, n int64) map[outcome.Outcome]int64 {
	t.Helper()
	var last int64 = -1
	lastChange := time.Now()
	for {
		got := c.Of(transactions.Processor)
		var sum int64
		for _, v := range got {
			sum += v
		}
		if sum != last {
			last, lastChange = sum, time.Now()
		}
		if sum >= n || time.Since(lastChange) > time.Minute {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readTopic reads every record of the (namespaced) topic name once its partitions' high-water marks add up to want (or
// 60 s have passed), then returns them all: a count above want shows up as more records.
func readTopic(t *testing.T, cfg cluster.Config, name string, want int) []*sarama.ConsumerMessage {
	t.Helper()
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var hwms map[int32]int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := client.RefreshMetadata(name); err != nil {
			t.Fatalf("metadata of %s: %v", name, err)
		}
		ids, err := client.Partitions(name)
		if err != nil {
			t.Fatalf("partitions of %s: %v", name, err)
		}
		hwms = map[int32]int64{}
		total := 0
		for _, id := range ids {
			off, err := client.GetOffset(name, id, sarama.OffsetNewest)
			if err != nil {
				t.Fatalf("offset of %s/%d: %v", name, id, err)
			}
			hwms[id] = off
			total += int(off)
		}
		if total >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*sarama.ConsumerMessage
	for id, hwm := range hwms {
		if hwm == 0 {
			continue
		}
		pc, err := c.ConsumePartition(name, id, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consume %s/%d: %v", name, id, err)
		}
		for {
			var m *sarama.ConsumerMessage
			select {
			case m = <-pc.Messages():
			case <-time.After(20 * time.Second):
				t.Fatalf("%s/%d: nothing more after %d of %d records", name, id, len(out), hwm)
			}
			out = append(out, m)
			if m.Offset >= hwm-1 {
				break
			}
		}
		_ = pc.Close()
	}
	return out
}

// syncBuffer is a log sink safe for goka's and sarama's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// debugLogger logs everything, down to goka's per-partition lines, into buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
