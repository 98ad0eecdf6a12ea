package sales

import (
	"context"
	"reflect"
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
)

type harness struct {
	t      *testing.T
	tt     *tester.Tester
	cfg    cluster.Config
	counts *outcome.Counts
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	h := &harness{t: t, tt: tt, counts: &outcome.Counts{}}
	h.cfg = cluster.Config{Brokers: []string{"tester"}, Namespace: "unit.", Observer: h.counts}
	for _, build := range []func(cluster.Config, ...goka.ProcessorOption) (*goka.Processor, error){New, NewRevenue} {
		p, err := build(h.cfg, goka.WithTester(tt))
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
	}
	return h
}

// line feeds one clean line to the sales topic as the gateway emits it: keyed by product id,
// stamped with the raw origin (partition, offset).
func (h *harness) line(p int32, off int64, l *event.TransactionLine) {
	h.t.Helper()
	b, err := codecs.TransactionLine{}.Encode(l)
	if err != nil {
		h.t.Fatal(err)
	}
	o := fence.Origin{Topic: "unit.shopease.transactions", Partition: p, Offset: off}
	h.tt.Consume(string(h.cfg.Namespace.Stream(topology.Sales)), l.ProductID, b, tester.WithHeaders(fence.Headers(o)))
}

func tx(order, product string, typ event.TxType, qty int64, price string, at string) *event.TransactionLine {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return &event.TransactionLine{LineID: order + product + string(typ), OrderID: order, Type: typ, UserID: "u~pseudo",
		ProductID: product, Quantity: qty, UnitPrice: event.MustMoney(price), Time: t}
}

// TestSalesAndRevenueExactUnderRedelivery feeds lines of two orders spread over two products and
// two raw partitions, then every line again (a gateway re-emission after a crash): the tables hold
// each line once, to the thousandth, and the order counts are distinct per month.
func TestSalesAndRevenueExactUnderRedelivery(t *testing.T) {
	h := newHarness(t)
	type in struct {
		p   int32
		off int64
		l   *event.TransactionLine
	}
	lines := []in{
		{0, 10, tx("O1", "A", event.Purchase, 2, "1.50", "2024-02-28T10:00:00Z")},
		{1, 3, tx("O1", "B", event.Purchase, 1, "2.005", "2024-02-28T10:00:00Z")},
		{0, 11, tx("O2", "A", event.Purchase, 3, "1.50", "2024-03-01T00:00:00Z")},
		{1, 4, tx("O1", "A", event.Refund, 1, "1.50", "2024-03-02T09:00:00Z")},
		{0, 12, tx("O1", "B", event.Return, 1, "2.005", "2024-02-29T23:59:59Z")},
	}
	for _, x := range lines {
		h.line(x.p, x.off, x.l)
	}
	for _, x := range lines {
		h.line(x.p, x.off, x.l)
	}
	if got, want := h.counts.Of(Processor), map[outcome.Outcome]int64{outcome.Accepted: 5, outcome.Duplicate: 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("sales outcomes %v, want %v", got, want)
	}
	if got, want := h.counts.Of(RevenueProcessor), map[outcome.Outcome]int64{outcome.Accepted: 5, outcome.Duplicate: 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("revenue outcomes %v, want %v", got, want)
	}

	st := h.cfg.Namespace.Table(Group)
	a := h.tt.TableValue(st, "A").(*ProductSales)
	wantA := []MonthTotals{
		{Month: "2024-02", Totals: Totals{PurchaseLines: 1, UnitsSold: 2, Gross: event.MustMoney("3.00")}},
		{Month: "2024-03", Totals: Totals{PurchaseLines: 1, UnitsSold: 3, Gross: event.MustMoney("4.50"),
			RefundLines: 1, UnitsRefunded: 1, Refunds: event.MustMoney("-1.50")}},
	}
	if !reflect.DeepEqual(a.Months, wantA) {
		t.Errorf("product A months %+v, want %+v", a.Months, wantA)
	}
	if want := time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC); !a.Latest.Equal(want) {
		t.Errorf("product A latest %s, want %s", a.Latest, want)
	}
	b := h.tt.TableValue(st, "B").(*ProductSales)
	wantB := []MonthTotals{{Month: "2024-02", Totals: Totals{PurchaseLines: 1, UnitsSold: 1, Gross: event.MustMoney("2.005"),
		ReturnLines: 1, UnitsReturned: 1, Returns: event.MustMoney("-2.005")}}}
	if !reflect.DeepEqual(b.Months, wantB) {
		t.Errorf("product B months %+v, want %+v", b.Months, wantB)
	}

	rt := h.cfg.Namespace.Table(RevenueGroup)
	want := map[string]Totals{
		"2024-02|O1": {PurchaseLines: 2, UnitsSold: 3, Gross: event.MustMoney("5.005"), ReturnLines: 1, UnitsReturned: 1, Returns: event.MustMoney("-2.005")},
		"2024-03|O2": {PurchaseLines: 1, UnitsSold: 3, Gross: event.MustMoney("4.50")},
		"2024-03|O1": {RefundLines: 1, UnitsRefunded: 1, Refunds: event.MustMoney("-1.50")},
	}
	keys := h.tt.GetTableKeys(rt)
	if len(keys) != len(want) {
		t.Errorf("revenue keys %v, want %d", keys, len(want))
	}
	counted := map[string]int{}
	for k, w := range want {
		om, _ := h.tt.TableValue(rt, k).(*OrderMonth)
		if om == nil {
			t.Errorf("%s: no revenue value", k)
			continue
		}
		if om.Totals != w {
			t.Errorf("%s: %+v, want %+v", k, om.Totals, w)
		}
		if m, o, _ := SplitOrderKey(k); om.Month != m || om.OrderID != o {
			t.Errorf("%s: month %q order %q", k, om.Month, om.OrderID)
		}
		if om.Counted() {
			counted[om.Month]++
		}
	}
	// O1 has only a refund in March: it is not one of March's orders.
	if wantCounted := map[string]int{"2024-02": 1, "2024-03": 1}; !reflect.DeepEqual(counted, wantCounted) {
		t.Errorf("orders per month %v, want %v", counted, wantCounted)
	}
	if n := want["2024-02|O1"]; n.Net() != event.MustMoney("3.00") {
		t.Errorf("net of 2024-02|O1 = %s, want 3.00", n.Net())
	}
}

// TestUndecodableBecomesDeadLetter: bytes that are not a line, or a line without a valid origin,
// go to the dead-letter topic and leave the tables alone.
func TestUndecodableBecomesDeadLetter(t *testing.T) {
	h := newHarness(t)
	dead := h.tt.NewQueueTracker(string(h.cfg.Namespace.Stream(topology.DeadLetter)))
	sales := string(h.cfg.Namespace.Stream(topology.Sales))
	h.tt.Consume(sales, "A", []byte("{not json"), tester.WithHeaders(fence.Headers(fence.Origin{Topic: "t", Partition: 0, Offset: 1})))
	b, _ := codecs.TransactionLine{}.Encode(tx("O1", "A", event.Purchase, 1, "1.00", "2024-02-28T10:00:00Z"))
	h.tt.Consume(sales, "A", b, tester.WithHeaders(goka.Headers{fence.Header: []byte("garbage")}))
	if got := h.counts.Of(Processor)[outcome.Rejected(event.ReasonUndecodable)]; got != 2 {
		t.Errorf("%d undecodable, want 2", got)
	}
	n := 0
	for {
		_, _, ok := dead.Next()
		if !ok {
			break
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d dead letters, want 2", n)
	}
	if keys := h.tt.GetTableKeys(h.cfg.Namespace.Table(Group)); len(keys) != 0 {
		t.Errorf("sales table keys %v after rejects only", keys)
	}
}
