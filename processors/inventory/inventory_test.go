package inventory

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

const ns topology.Namespace = "unit."

// harness runs both groups on goka's tester: raw records in, clean records and dead letters
// tracked, the product table readable.
type harness struct {
	tt    *tester.Tester
	in    string
	clean *tester.QueueTracker
	dead  *tester.QueueTracker
	obs   *outcome.Counts
}

func start(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	obs := &outcome.Counts{}
	cfg := cluster.Config{Brokers: []string{"tester"}, Namespace: ns, Observer: obs}
	ctx, cancel := context.WithCancel(context.Background())
	var dones []chan error
	for _, build := range []func(cluster.Config, ...goka.ProcessorOption) (*goka.Processor, error){NewClean, New} {
		p, err := build(cfg, goka.WithTester(tt))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		dones = append(dones, done)
	}
	t.Cleanup(func() {
		cancel()
		for _, done := range dones {
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	})
	return &harness{
		tt:    tt,
		in:    string(ns.Stream(topology.Inventory)),
		clean: tt.NewQueueTracker(string(ns.Stream(topology.CleanInventory))),
		dead:  tt.NewQueueTracker(string(ns.Stream(topology.DeadLetter))),
		obs:   obs,
	}
}

func (h *harness) product(t *testing.T, sku string) *product.Product {
	t.Helper()
	v, _ := h.tt.TableValue(ns.Table(Group), sku).(*product.Product)
	if v == nil {
		t.Fatalf("no product %q in the table", sku)
	}
	return v
}

// raw renders a raw inventory record as replay writes it; empty fields are left out.
func raw(id, typ, sku, name, category, price, cost, qty, tm string) []byte {
	u := event.InventoryUpdate{EventID: id, Type: event.InventoryType(typ), SKU: sku, Name: name, Category: category,
		Price: price, Cost: cost, Quantity: qty, Source: "f.csv:2"}
	s := fmt.Sprintf(`{"event_id":%q,"type":%q,"sku":%q`, u.EventID, u.Type, u.SKU)
	for _, f := range [][2]string{{"name", name}, {"category", category}, {"price", price}, {"cost", cost}, {"quantity", qty}} {
		if f[1] != "" {
			s += fmt.Sprintf(`,%q:%q`, f[0], f[1])
		}
	}
	return []byte(s + fmt.Sprintf(`,"time":%q,"source":"f.csv:2"}`, tm))
}

func money(s string) *event.Money { m := event.MustMoney(s); return &m }

const t0 = "2024-03-01T10:15:00Z"

var tm0 = time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC)

func TestRulesInOrder(t *testing.T) {
	cases := []struct {
		name string
		raw  []byte
		want event.Reason          // "" = accepted
		rec  event.InventoryRecord // the clean record when accepted (Source "f.csv:2" added)
	}{
		{"stock report", raw("i1", "stock_report", "P0007", "Mug", "", "", "", "12", t0), "",
			event.InventoryRecord{EventID: "i1", Type: event.StockReport, SKU: "P0007", Name: "Mug", Units: 12, Time: tm0}},
		{"messy everything", raw("i2", "product_info", " p0007 ", "  Mug,  blue ", "HOME&KITCHEN", "$1,299.00", "£2.10", "", t0), "",
			event.InventoryRecord{EventID: "i2", Type: event.ProductInfo, SKU: "P0007", Name: "Mug, blue", Category: "Home & Kitchen",
				Price: money("1299"), Cost: money("2.10"), Time: tm0}},
		{"restock in pcs", raw("i3", "restock", "p0007  ", "", "", "", "", "12 pcs", t0), "",
			event.InventoryRecord{EventID: "i3", Type: event.Restock, SKU: "P0007", Units: 12, Time: tm0}},
		{"type spelled out", raw("i4", "Stock Report", "P1", "", "", "", "", "3 units", t0), "",
			event.InventoryRecord{EventID: "i4", Type: event.StockReport, SKU: "P1", Units: 3, Time: tm0}},
		{"zero stock, absurd limit", raw("i5", "stock_report", "P1", "", "", "", "", "10,000,000", t0), "",
			event.InventoryRecord{EventID: "i5", Type: event.StockReport, SKU: "P1", Units: 10_000_000, Time: tm0}},
		{"product info ignores quantity", raw("i6", "product_info", "P1", "", "garden", "0", "", "lots", t0), "",
			event.InventoryRecord{EventID: "i6", Type: event.ProductInfo, SKU: "P1", Category: "Garden", Price: money("0"), Time: tm0}},
		{"blank price is absent", raw("i7", "product_info", "P1", "", "", "  ", "", "", t0), "",
			event.InventoryRecord{EventID: "i7", Type: event.ProductInfo, SKU: "P1", Time: tm0}},
		{"empty sku", raw("i8", "stock_report", "", "", "", "", "", "1", t0), event.ReasonMissingSKU, event.InventoryRecord{}},
		{"blank sku", raw("i8", "stock_report", "   ", "", "", "", "", "1", t0), event.ReasonMissingSKU, event.InventoryRecord{}},
		{"unknown type", raw("i9", "stocktake", "P1", "", "", "", "", "1", t0), event.ReasonBadType, event.InventoryRecord{}},
		{"before 2000", raw("i10", "restock", "P1", "", "", "", "", "1", "1999-12-31T23:59:59Z"), event.ReasonBadTime, event.InventoryRecord{}},
		{"from 2100", raw("i10", "restock", "P1", "", "", "", "", "1", "2100-01-01T00:00:00Z"), event.ReasonBadTime, event.InventoryRecord{}},
		{"negative stock", raw("i11", "stock_report", "P1", "", "", "", "", "-7", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		{"negative restock", raw("i11", "restock", "P1", "", "", "", "", "-7 pcs", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		{"absurd stock", raw("i12", "stock_report", "P1", "", "", "", "", "10000001", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		{"unparseable stock", raw("i12", "stock_report", "P1", "", "", "", "", "twelve", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		{"missing stock", raw("i12", "restock", "P1", "", "", "", "", "", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		{"negative price", raw("i13", "product_info", "P1", "", "", "-$4.95", "", "", t0), event.ReasonBadPrice, event.InventoryRecord{}},
		{"unparseable cost", raw("i13", "product_info", "P1", "", "", "4.95", "n/a", "", t0), event.ReasonBadPrice, event.InventoryRecord{}},
		{"price with 4 decimals", raw("i13", "restock", "P1", "", "", "4.9501", "", "1", t0), event.ReasonBadPrice, event.InventoryRecord{}},
		// The first failing rule decides.
		{"missing sku before bad type", raw("i14", "stocktake", " ", "", "", "", "", "-1", "1970-01-01T00:00:00Z"), event.ReasonMissingSKU, event.InventoryRecord{}},
		{"bad type before bad time", raw("i14", "stocktake", "P1", "", "", "", "", "-1", "1970-01-01T00:00:00Z"), event.ReasonBadType, event.InventoryRecord{}},
		{"bad time before bad quantity", raw("i14", "restock", "P1", "", "", "-1", "", "-1", "1970-01-01T00:00:00Z"), event.ReasonBadTime, event.InventoryRecord{}},
		{"bad quantity before bad price", raw("i14", "restock", "P1", "", "", "-1", "", "-1", t0), event.ReasonBadQuantity, event.InventoryRecord{}},
		// Bytes that are not an inventory record.
		{"not json", []byte("hello"), event.ReasonUndecodable, event.InventoryRecord{}},
		{"price as a number", []byte(`{"event_id":"i1","type":"restock","sku":"P1","price":4.95,"time":"` + t0 + `"}`), event.ReasonUndecodable, event.InventoryRecord{}},
		{"unknown field", []byte(`{"event_id":"i1","type":"restock","sku":"P1","colour":"red","time":"` + t0 + `"}`), event.ReasonUndecodable, event.InventoryRecord{}},
		{"unknown type and no time", []byte(`{"event_id":"i1","type":"stocktake","sku":"P1"}`), event.ReasonUndecodable, event.InventoryRecord{}},
	}
	h := start(t)
	want := map[outcome.Outcome]int64{}
	for i, c := range cases {
		key := "key-" + c.name
		h.tt.Consume(h.in, key, c.raw)
		o := fence.Origin{Topic: h.in, Partition: 0, Offset: int64(i)}
		if c.want == "" {
			want[outcome.Accepted]++
			c.rec.Source = "f.csv:2"
			h.expectClean(t, c.name, &c.rec, o)
			continue
		}
		want[outcome.Rejected(c.want)]++
		h.expectDeadLetter(t, c.name, c.want, key, c.raw, o)
	}
	if k, v, ok := h.clean.NextRaw(); ok {
		t.Errorf("unexpected clean record %s=%s", k, v)
	}
	if k, v, ok := h.dead.NextRaw(); ok {
		t.Errorf("unexpected dead letter %s=%s", k, v)
	}
	if got := h.obs.Of(Processor); !reflect.DeepEqual(got, want) {
		t.Errorf("observer counts %v, want %v", got, want)
	}
}

func (h *harness) expectClean(t *testing.T, name string, want *event.InventoryRecord, o fence.Origin) {
	t.Helper()
	hdr, k, v, ok := h.clean.NextRawWithHeaders()
	if !ok {
		t.Fatalf("%s: nothing on the clean topic", name)
	}
	got, err := codecs.DecodeInventoryRecord(v)
	if err != nil {
		t.Fatalf("%s: clean record does not decode: %v", name, err)
	}
	if k != want.SKU || !reflect.DeepEqual(got, want) || string(hdr[fence.Header]) != o.String() {
		t.Errorf("%s: clean record %s=%s origin %s, want %s=%+v origin %s", name, k, v, hdr[fence.Header], want.SKU, want, o)
	}
}

func (h *harness) expectDeadLetter(t *testing.T, name string, reason event.Reason, key string, original []byte, o fence.Origin) {
	t.Helper()
	hdr, k, v, ok := h.dead.NextRawWithHeaders()
	if !ok {
		t.Fatalf("%s: nothing on the dead-letter topic", name)
	}
	dl, err := codecs.DecodeDeadLetter(v)
	if err != nil {
		t.Fatalf("%s: dead letter does not decode: %v", name, err)
	}
	if k != o.String() || event.Reason(dl.Reason) != reason || dl.Source != o.String() || dl.Processor != Processor ||
		string(dl.Key) != key || !bytes.Equal(dl.Original, original) || string(hdr[fence.Header]) != o.String() {
		t.Errorf("%s: dead letter key %q reason %q source %q processor %q key %q, want %q %q %q %q %q",
			name, k, dl.Reason, dl.Source, dl.Processor, dl.Key, o, reason, o, Processor, key)
	}
}

// TestProductTable drives raw records through both groups and checks the product table: info,
// on-hand, duplicates once, redelivery skipped, and the daily closing with carry-forward.
func TestProductTable(t *testing.T) {
	h := start(t)
	feed := [][]byte{
		raw("i1", "product_info", " p0007 ", "Mug, blue", "home and kitchen", "$4.95", "2.10", "", "2024-02-28T00:00:00Z"),
		raw("i2", "stock_report", "P0007", "Mug, blue", "", "", "", "10 pcs", "2024-02-28T00:00:00Z"),
		raw("i3", "restock", "p0007", "", "", "", "", "30", "2024-02-28T06:00:00Z"),
		raw("i4", "stock_report", "P0007", "", "", "", "", "7", "2024-02-28T23:59:00Z"),
		raw("i3", "restock", "p0007", "", "", "", "", "30", "2024-02-28T06:00:00Z"),      // duplicate
		raw("i5", "stock_report", "P0007", "", "", "", "", "-2", "2024-02-29T23:59:00Z"), // rejected: 7 carried
		raw("i6", "product_info", "P0007", "Mug, red", "", "$1,299.00", "", "", "2024-03-01T12:00:00Z"),
		raw("i7", "stock_report", " P0007", "", "", "", "", "5 units", "2024-03-01T23:59:00Z"),
		raw("i8", "restock", "P0007", "", "", "", "", "20", "2024-03-02T06:00:00Z"),
		raw("i7", "stock_report", " P0007", "", "", "", "", "5 units", "2024-03-01T23:59:00Z"), // duplicate
		raw("j1", "stock_report", "P0008", "", "", "", "", "1", "2024-03-02T06:00:00Z"),
	}
	for i, b := range feed {
		h.tt.Consume(h.in, fmt.Sprint("k", i), b)
	}
	p := h.product(t, "P0007")
	got := fmt.Sprintf("%s|%s|%s|%v|%v|level %d|on-hand %d|applied %d|dups %d|late %d|%s",
		p.SKU, p.Name, p.Category, p.Price, p.Cost, p.Level, p.OnHand, p.Applied, p.Duplicates, p.Late, p.Updated.Format(time.RFC3339))
	if want := "P0007|Mug, red|Home & Kitchen|1299.00|2.10|level 5|on-hand 25|applied 7|dups 2|late 0|2024-03-02T06:00:00Z"; got != want {
		t.Errorf("product\n got %s\nwant %s", got, want)
	}
	wantClosing := []product.MonthClosing{
		{Month: "2024-02", Days: 2, UnitsSum: 14, ValueSum: event.MustMoney("29.40")},
		{Month: "2024-03", Days: 3, UnitsSum: 15, ValueSum: event.MustMoney("31.50")},
	}
	if c := p.Closing(time.Date(2024, 3, 3, 12, 0, 0, 0, time.UTC)); !reflect.DeepEqual(c, wantClosing) {
		t.Errorf("closing %+v, want %+v", c, wantClosing)
	}
	if q := h.product(t, "P0008"); q.Level != 1 || q.Name != "" || q.Applied != 1 {
		t.Errorf("P0008: %+v", q)
	}
	wantObs := map[outcome.Outcome]int64{outcome.Accepted: 8, outcome.Duplicate: 2}
	if got := h.obs.Of(ProductsProcessor); !reflect.DeepEqual(got, wantObs) {
		t.Errorf("products observer %v, want %v", got, wantObs)
	}
	if got := h.obs.Of(Processor); got[outcome.Accepted] != 10 || got[outcome.Rejected(event.ReasonBadQuantity)] != 1 {
		t.Errorf("gateway observer %v", got)
	}

	// A redelivery: the clean record of raw offset 8 (the restock) again, with its origin. The
	// fence skips it; a record of a new origin offset is applied.
	cleanIn := string(ns.Stream(topology.CleanInventory))
	rec := &event.InventoryRecord{EventID: "i9", Type: event.Restock, SKU: "P0007", Units: 4, Time: time.Date(2024, 3, 2, 7, 0, 0, 0, time.UTC)}
	redelivered := goka.Headers{fence.Header: []byte(fence.Origin{Topic: h.in, Partition: 0, Offset: 8}.String())}
	recBytes, err := codecs.AppendInventoryRecord(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	h.tt.Consume(cleanIn, "P0007", recBytes, tester.WithHeaders(redelivered))
	if p := h.product(t, "P0007"); p.OnHand != 25 || p.Applied != 7 {
		t.Errorf("redelivery applied: on-hand %d applied %d", p.OnHand, p.Applied)
	}
	fresh := goka.Headers{fence.Header: []byte(fence.Origin{Topic: h.in, Partition: 0, Offset: 11}.String())}
	h.tt.Consume(cleanIn, "P0007", recBytes, tester.WithHeaders(fresh))
	if p := h.product(t, "P0007"); p.OnHand != 29 || p.Applied != 8 {
		t.Errorf("new record: on-hand %d applied %d, want 29 8", p.OnHand, p.Applied)
	}
	// Bytes on the clean topic that are not a clean record become a dead letter.
	h.tt.Consume(cleanIn, "P0007", []byte("{}"))
	for {
		_, _, v, ok := h.dead.NextRawWithHeaders()
		if !ok {
			t.Fatal("no dead letter for an undecodable clean record")
		}
		if dl, _ := codecs.DecodeDeadLetter(v); dl != nil && dl.Processor == ProductsProcessor {
			if dl.Reason != string(event.ReasonUndecodable) {
				t.Errorf("dead letter reason %q", dl.Reason)
			}
			break
		}
	}
}
