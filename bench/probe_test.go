package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/processors/topology"
)

// Probes measure latency end to end: a probe is a purchase line of its own order, produced into
// the raw transactions topic stamped with the wall clock; it passes the transactions gateway
// (validation, dedupe table, pseudonymization) and the sales processor (per-product month table),
// which forwards it to shopease.sales.orders under OrderKey(month, order id). A consumer on that
// topic sees the probe when the processor's output is readable by anyone: the latency is from
// the produce call to that read, both on this machine's clock.
const (
	probeEvery   = 10 * time.Millisecond
	probePrefix  = "bench-probe-"
	probeProduct = "BENCH-PROBE"
	probeDrain   = 60 * time.Second // how long to wait for the last probes after the load ends
)

// latency is the probe latencies of one run of the latency phase.
type latency struct {
	offered       float64 // events/s the replay was asked for (replay's limiter holds it)
	probes        int
	p50, p99, max time.Duration
}

// underLoad runs the group in a fresh namespace, replays the history into it at rate events/s
// for at most loadFor and produces a probe every probeEvery meanwhile; every probe must come out.
func underLoad(b *testing.B, brokers []string, dir string, rate float64, loadFor time.Duration) latency {
	b.Helper()
	cfg := streamConfig(b, brokers, nil)
	stop := startGroup(b, cfg, processors.Run)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, err := newProber(ctx, brokers, string(cfg.Namespace.Stream(topology.Transactions)), string(cfg.Namespace.Stream(topology.SalesOrders)))
	if err != nil {
		b.Fatal(err)
	}
	defer pr.close()
	// The first probe waits for the group to join and create its outputs; it is not counted.
	if _, err := pr.roundTrip(ctx, 2*time.Minute); err != nil {
		b.Fatalf("warm-up probe: %v", err)
	}

	loadCtx, endLoad := context.WithTimeout(ctx, loadFor)
	defer endLoad()
	replayed := make(chan error, 1)
	manifest := b.TempDir() + "/manifest.json"
	go func() {
		_, err := replayInto(loadCtx, cfg, dir, manifest, rate)
		replayed <- err
	}()
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for running := true; running; {
		select {
		case err := <-replayed:
			if err != nil {
				b.Fatal(err)
			}
			running = false
		case <-tick.C:
			if err := pr.send(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	lats, err := pr.wait(probeDrain)
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(lats)
	return latency{
		offered: rate, probes: len(lats),
		p50: quantile(lats, 0.50), p99: quantile(lats, 0.99), max: lats[len(lats)-1],
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.5)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// prober produces probes and reads them back.
type prober struct {
	client *kgo.Client // produces to the raw topic, consumes the output topic
	raw    string
	mu     sync.Mutex
	sentAt map[string]time.Time     // output key → produce time, until seen
	seen   map[string]time.Duration // output key → latency
	next   int
	done   chan struct{}
}

func newProber(ctx context.Context, brokers []string, raw, out string) (*prober, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(out),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(10*time.Millisecond),
		kgo.ProducerLinger(0), kgo.AllowAutoTopicCreation())
	if err != nil {
		return nil, fmt.Errorf("probe client: %w", err)
	}
	p := &prober{client: client, raw: raw, sentAt: map[string]time.Time{}, seen: map[string]time.Duration{}, done: make(chan struct{})}
	go p.consume(ctx)
	return p, nil
}

// send produces the next probe; its latency clock starts before the produce call.
func (p *prober) send(ctx context.Context) error {
	p.mu.Lock()
	p.next++
	id := probePrefix + strconv.Itoa(p.next)
	p.mu.Unlock()
	now := time.Now()
	line := &event.TransactionLine{LineID: id, OrderID: id, Type: event.Purchase, UserID: id, ProductID: probeProduct,
		Quantity: 1, UnitPrice: event.MustMoney("1.000"), Time: now.UTC()}
	v, err := codecs.TransactionLine{}.Encode(line)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	p.mu.Lock()
	p.sentAt[sales.OrderKey(sales.Month(line.Time), id)] = now // the key the sales processor forwards it under
	p.mu.Unlock()
	p.client.Produce(ctx, &kgo.Record{Topic: p.raw, Key: []byte(id), Value: v}, func(_ *kgo.Record, err error) {
		if err != nil && ctx.Err() == nil {
			panic(fmt.Sprintf("probe %s not produced: %v", id, err)) // the run would wait for it forever
		}
	})
	return nil
}

// roundTrip sends one probe and waits for it; its latency is then forgotten.
func (p *prober) roundTrip(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	if err := p.send(ctx); err != nil {
		return 0, err
	}
	lats, err := p.wait(timeout)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	clear(p.seen)
	p.mu.Unlock()
	return lats[0], nil
}

// wait returns every probe's latency once all have been seen, or an error after timeout.
func (p *prober) wait(timeout time.Duration) ([]time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		missing := len(p.sentAt)
		var lats []time.Duration
		if missing == 0 {
			for _, d := range p.seen {
				lats = append(lats, d)
			}
		}
		p.mu.Unlock()
		if missing == 0 {
			return lats, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("probe: %d probes not seen on the output after %v", missing, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *prober) consume(ctx context.Context) {
	defer close(p.done)
	for ctx.Err() == nil {
		fs := p.client.PollFetches(ctx)
		if fs.IsClientClosed() {
			return
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			key := string(r.Key)
			p.mu.Lock()
			if at, ok := p.sentAt[key]; ok {
				p.seen[key] = now.Sub(at)
				delete(p.sentAt, key)
			}
			p.mu.Unlock()
		})
	}
}

func (p *prober) close() {
	p.client.Close()
	<-p.done
}
