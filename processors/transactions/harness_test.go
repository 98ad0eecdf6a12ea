package transactions

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
)

// harness runs the production graph on goka's tester and tracks every output topic.
type harness struct {
	t      *testing.T
	tt     *tester.Tester
	cfg    cluster.Config
	counts *outcome.Counts
	in     string
	table  goka.Table
	inQ    *tester.QueueTracker
	clean  *tester.QueueTracker
	sales  *tester.QueueTracker
	dead   *tester.QueueTracker
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	counts := &outcome.Counts{}
	cfg := cluster.Config{
		Brokers:    []string{"tester"},
		Namespace:  "unit.",
		Pseudonyms: pseudonym.Demo(),
		Observer:   counts,
	}
	p, err := New(cfg, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	ns := cfg.Namespace
	h := &harness{
		t: t, tt: tt, cfg: cfg, counts: counts,
		in:    string(ns.Stream(topology.Transactions)),
		table: ns.Table(Group),
	}
	h.inQ = tt.NewQueueTracker(h.in)
	h.clean = tt.NewQueueTracker(string(ns.Stream(topology.CleanTransactions)))
	h.sales = tt.NewQueueTracker(string(ns.Stream(topology.Sales)))
	h.dead = tt.NewQueueTracker(string(ns.Stream(topology.DeadLetter)))
	return h
}

// consume feeds one raw record and returns the origin it had.
func (h *harness) consume(key string, raw []byte) fence.Origin {
	h.t.Helper()
	o := fence.Origin{Topic: h.in, Partition: 0, Offset: h.inQ.Hwm()}
	h.tt.Consume(h.in, key, raw)
	return o
}

// emitted is one output record.
type emitted struct {
	origin string
	key    string
	value  []byte
}

func next(t *testing.T, q *tester.QueueTracker) (emitted, bool) {
	t.Helper()
	hd, k, v, ok := q.NextRawWithHeaders()
	if !ok {
		return emitted{}, false
	}
	return emitted{origin: string(hd[fence.Header]), key: k, value: v}, true
}

// drain returns every record emitted to q since the last call.
func drain(t *testing.T, q *tester.QueueTracker) []emitted {
	t.Helper()
	var out []emitted
	for {
		e, ok := next(t, q)
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

// goodLine is a valid purchase line; tests mutate copies of it.
func goodLine() event.TransactionLine {
	return event.TransactionLine{
		LineID: "o000123-1", OrderID: "o000123", Type: event.Purchase, UserID: "u00042",
		ProductID: "P0007", Description: "Mug, blue", Quantity: 2, UnitPrice: event.MustMoney("4.95"),
		Currency: "GBP", Country: "United Kingdom", Time: time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC),
		Source: "2024-03-01.csv:2",
	}
}

func encode(t *testing.T, l event.TransactionLine) []byte {
	t.Helper()
	b, err := codecs.AppendTransactionLine(nil, &l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withType returns the encoding of l with its type value replaced by typ, which the codec's encoder
// would refuse: how a foreign producer's line with an unknown type reaches the raw topic.
func withType(t *testing.T, l event.TransactionLine, typ string) []byte {
	t.Helper()
	l.Type = event.Purchase
	b := encode(t, l)
	out := bytes.Replace(b, []byte(`"type":"purchase"`), []byte(`"type":"`+typ+`"`), 1)
	if bytes.Equal(out, b) {
		t.Fatal("type field not found")
	}
	return out
}
