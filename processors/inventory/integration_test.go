package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// rawRecord is one record for the raw inventory topic, keyed by the SKU as received.
type rawRecord struct {
	key, value string
	want       event.Reason // "" = accepted
}

func rec(id, typ, sku, category, price, cost, qty string, at time.Time) string {
	s := fmt.Sprintf(`{"event_id":%q,"type":%q,"sku":%q,"name":"Item %s"`, id, typ, sku, id)
	for _, f := range [][2]string{{"category", category}, {"price", price}, {"cost", cost}, {"quantity", qty}} {
		if f[1] != "" {
			s += fmt.Sprintf(`,%q:%q`, f[0], f[1])
		}
	}
	return s + fmt.Sprintf(`,"time":%q}`, at.Format(time.RFC3339))
}

var day0 = time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)

// messyKey writes product i's SKU in one of the forms the generator uses, so that one product's
// records travel through several raw partitions.
func messyKey(i, n int) string {
	sku := fmt.Sprintf("P%04d", i)
	switch n % 4 {
	case 1:
		return " p" + sku[1:] + " "
	case 2:
		return "p" + sku[1:]
	case 3:
		return sku + "  "
	}
	return sku
}

// level is the closing report of product i on day d; odd products report a negative level on
// day 2, which is rejected, so their day-1 level is carried.
func level(i, d int) int64 { return int64(100*i - 5*(d+1)) }

// knownRecords is days of history of products 1..5, written from firstDay on, plus bad records.
func knownRecords(firstDay, days int) []rawRecord {
	var recs []rawRecord
	n := 0
	add := func(i int, typ, category, price, cost, qty string, at time.Time, want event.Reason) {
		n++
		id := fmt.Sprintf("i%d-%d", firstDay, n)
		recs = append(recs, rawRecord{messyKey(i, n), rec(id, typ, messyKey(i, n), category, price, cost, qty, at), want})
	}
	for i := 1; i <= 5; i++ {
		for d := firstDay; d < firstDay+days; d++ {
			t0 := day0.AddDate(0, 0, d)
			if d == 0 {
				add(i, "product_info", []string{"HOME&KITCHEN", "home and kitchen", "  Home &  Kitchen "}[i%3],
					fmt.Sprintf("$1,%d99.00", i), fmt.Sprintf("%d.50", i), "", t0, "")
				add(i, "stock_report", "", "", "", fmt.Sprint(100*i), t0, "")
			}
			add(i, "restock", "", "", "", "10 pcs", t0.Add(6*time.Hour), "")
			if d == 1 {
				dup := recs[len(recs)-1]
				recs = append(recs, dup) // the same event id again, maybe through another partition
			}
			if d == 2 && i%2 == 1 {
				add(i, "stock_report", "", "", "", "-3", t0.Add(23*time.Hour+59*time.Minute), event.ReasonBadQuantity)
				continue
			}
			add(i, "stock_report", "", "", "", fmt.Sprintf("%d units", level(i, d)), t0.Add(23*time.Hour+59*time.Minute), "")
		}
	}
	t := day0.AddDate(0, 0, firstDay)
	add(1, "stock_report", "", "", "", "1", t, "")
	recs[len(recs)-1] = rawRecord{" ", rec("bad1", "stock_report", "  ", "", "", "", "1", t), event.ReasonMissingSKU}
	recs = append(recs,
		rawRecord{"P0001", rec("bad2", "stocktake", "P0001", "", "", "", "1", t), event.ReasonBadType},
		rawRecord{"P0001", rec("bad3", "restock", "P0001", "", "", "", "1", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), event.ReasonBadTime},
		rawRecord{"P0002", rec("bad4", "restock", "P0002", "", "", "", "lots", t), event.ReasonBadQuantity},
		rawRecord{"P0002", rec("bad5", "product_info", "P0002", "", "-$1.00", "", "", t), event.ReasonBadPrice},
		rawRecord{"P0003", `{"event_id":"bad6","type":"restock"`, event.ReasonUndecodable},
	)
	return recs
}

// wantProduct is product i after days 0..lastDay, restated from knownRecords' pattern.
type wantProduct struct {
	category       string
	price, cost    event.Money
	level, onHand  int64
	applied, dupes int64
	closing        []product.MonthClosing
	asOf           time.Time // the closing counts days up to here
}

func expected(i, lastDay int) wantProduct {
	w := wantProduct{category: "Home & Kitchen", price: event.MustMoney(fmt.Sprintf("1%d99", i)),
		cost: event.MustMoney(fmt.Sprintf("%d.50", i)), applied: 2, dupes: 1, asOf: day0.AddDate(0, 0, lastDay)}
	closing := map[string]*product.MonthClosing{}
	var months []string
	var lvl int64
	for d := 0; d <= lastDay; d++ {
		w.applied++ // restock
		if !(d == 2 && i%2 == 1) {
			w.applied++
			lvl = level(i, d)
		}
		m := day0.AddDate(0, 0, d).Format("2006-01")
		if closing[m] == nil {
			closing[m] = &product.MonthClosing{Month: m}
			months = append(months, m)
		}
		closing[m].Days++
		closing[m].UnitsSum += lvl
		closing[m].ValueSum += event.Money(lvl) * w.cost
	}
	for _, m := range months {
		w.closing = append(w.closing, *closing[m])
	}
	w.level, w.onHand = lvl, lvl
	return w
}

// TestOnKafka emits known raw records, runs both groups, and checks the exact outcomes and
// product table; then more days after a restart (state recovered from the changelog).
func TestOnKafka(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(), Observer: obs}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		wantGate := map[outcome.Outcome]int64{}
		round := func(firstDay, days int) {
			recs := knownRecords(firstDay, days)
			emit(t, cfg, recs)
			for _, r := range recs {
				if r.want == "" {
					wantGate[outcome.Accepted]++
				} else {
					wantGate[outcome.Rejected(r.want)]++
				}
			}
			wantProducts := map[outcome.Outcome]int64{}
			for i := 1; i <= 5; i++ {
				w := expected(i, firstDay+days-1)
				wantProducts[outcome.Accepted] += w.applied
				wantProducts[outcome.Duplicate] += w.dupes
			}
			stop := start(t, cfg)
			defer stop()
			waitOutcomes(t, obs, inventory.Processor, wantGate)
			waitOutcomes(t, obs, inventory.ProductsProcessor, wantProducts)
			for i := 1; i <= 5; i++ {
				checkProduct(t, cfg, fmt.Sprintf(" p%04d", i), expected(i, firstDay+days-1))
			}
		}
		round(0, 2)
		// After a restart the table state comes back from the changelog (memory storage) and two
		// more days apply on top of it.
		round(2, 2)
	})
}

// checkProduct reads sku through a fresh view until it equals w (the products group may still be
// applying the last records when the gateway is done).
func checkProduct(t *testing.T, cfg cluster.Config, sku string, w wantProduct) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		p := lookup(t, cfg, sku)
		if p == nil {
			last = "missing"
		} else {
			got := fmt.Sprintf("%s|%v|%v|%d|%d|%d|%d|%+v", p.Category, p.Price, p.Cost, p.Level, p.OnHand, p.Applied, p.Duplicates,
				p.Closing(w.asOf))
			want := fmt.Sprintf("%s|%v|%v|%d|%d|%d|%d|%+v", w.category, w.price, w.cost, w.level, w.onHand, w.applied, w.dupes, w.closing)
			if got == want {
				return
			}
			last = fmt.Sprintf("\n got %s\nwant %s", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("product %q: %s", sku, last)
}

// lookup reads one product through a fresh view.
func lookup(t *testing.T, cfg cluster.Config, sku string) *product.Product {
	t.Helper()
	v, err := inventory.NewView(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !v.Recovered() {
		select {
		case err := <-done:
			t.Fatalf("view: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	p, err := inventory.Lookup(v, sku)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// emit writes recs to the raw inventory topic and waits for every acknowledgement.
func emit(t *testing.T, cfg cluster.Config, recs []rawRecord) {
	t.Helper()
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Inventory), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(recs))
	for _, r := range recs {
		p, err := em.Emit(r.key, []byte(r.value))
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

// start runs both groups (inventory.Run) in the background and returns a function that stops them.
// A failure of the groups fails the test at once (waitOutcomes stops waiting).
func start(t *testing.T, cfg cluster.Config) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := inventory.Run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("inventory: %v", err)
		}
	}()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("inventory did not stop within 60 s")
		}
	}
}

// waitOutcomes waits until processor's outcomes equal want, failing on a surplus or a timeout.
func waitOutcomes(t *testing.T, obs *outcome.Counts, processor string, want map[outcome.Outcome]int64) {
	t.Helper()
	var total int64
	for _, v := range want {
		total += v
	}
	deadline := time.Now().Add(120 * time.Second)
	var got map[outcome.Outcome]int64
	for time.Now().Before(deadline) && !t.Failed() {
		got = obs.Of(processor)
		var n int64
		for _, v := range got {
			n += v
		}
		if n >= total {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s outcomes %v, want %v", processor, got, want)
	}
}
