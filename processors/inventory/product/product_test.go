package product

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func money(s string) *event.Money { m := event.MustMoney(s); return &m }

func report(id, t string, units int64) *event.InventoryRecord {
	return &event.InventoryRecord{EventID: id, Type: event.StockReport, SKU: "P1", Units: units, Time: at(t)}
}

func restock(id, t string, units int64) *event.InventoryRecord {
	return &event.InventoryRecord{EventID: id, Type: event.Restock, SKU: "P1", Units: units, Time: at(t)}
}

func info(id, t, name, category string, price, cost *event.Money) *event.InventoryRecord {
	return &event.InventoryRecord{EventID: id, Type: event.ProductInfo, SKU: "P1", Name: name, Category: category,
		Price: price, Cost: cost, Time: at(t)}
}

// TestClosingCarriesForward follows generate's rule on a leap-year month end: the last report of
// a day closes it, a day without an accepted report carries the previous level, restocks move
// on-hand but not the closing level, and days count up to the as-of day.
func TestClosingCarriesForward(t *testing.T) {
	p := New("P1")
	for _, r := range []*event.InventoryRecord{
		info("i1", "2024-02-28T00:00:00Z", "Mug, blue", "Home & Kitchen", money("4.95"), money("2.10")),
		report("i2", "2024-02-28T00:00:00Z", 10),
		restock("i3", "2024-02-28T06:00:00Z", 30),
		report("i4", "2024-02-28T23:59:00Z", 7),
		// 02-29: the closing report was rejected upstream (negative units): 7 carried forward.
		restock("i5", "2024-02-29T06:00:00Z", 4),
		report("i6", "2024-03-01T23:59:00Z", 5),
		restock("i7", "2024-03-02T10:00:00Z", 20),
	} {
		if got := p.Apply(r); got != Applied {
			t.Fatalf("%s: %v, want Applied", r.EventID, got)
		}
	}
	if p.Level != 5 || p.OnHand != 25 || p.Applied != 7 || !p.Updated.Equal(at("2024-03-02T10:00:00Z")) {
		t.Errorf("level %d on-hand %d applied %d updated %s, want 5 25 7 2024-03-02T10:00:00Z", p.Level, p.OnHand, p.Applied, p.Updated)
	}
	cases := []struct {
		asOf string
		want []MonthClosing
	}{
		{"2024-02-27T12:00:00Z", nil},
		{"2024-02-28T00:00:00Z", []MonthClosing{{Month: "2024-02", Days: 1, UnitsSum: 7, ValueSum: event.MustMoney("14.70")}}},
		{"2024-03-01T23:59:59Z", []MonthClosing{
			{Month: "2024-02", Days: 2, UnitsSum: 14, ValueSum: event.MustMoney("29.40")},
			{Month: "2024-03", Days: 1, UnitsSum: 5, ValueSum: event.MustMoney("10.50")},
		}},
		{"2024-03-31T00:00:00Z", []MonthClosing{
			{Month: "2024-02", Days: 2, UnitsSum: 14, ValueSum: event.MustMoney("29.40")},
			{Month: "2024-03", Days: 31, UnitsSum: 155, ValueSum: event.MustMoney("325.50")},
		}},
		{"2024-04-02T00:00:00Z", []MonthClosing{
			{Month: "2024-02", Days: 2, UnitsSum: 14, ValueSum: event.MustMoney("29.40")},
			{Month: "2024-03", Days: 31, UnitsSum: 155, ValueSum: event.MustMoney("325.50")},
			{Month: "2024-04", Days: 2, UnitsSum: 10, ValueSum: event.MustMoney("21.00")},
		}},
	}
	for _, c := range cases {
		if got := p.Closing(at(c.asOf)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Closing(%s) = %+v, want %+v", c.asOf, got, c.want)
		}
	}
	if got := p.ClosingOf("2024-03", at("2024-03-02T00:00:00Z")); got != (MonthClosing{Month: "2024-03", Days: 2, UnitsSum: 10, ValueSum: event.MustMoney("21.00")}) {
		t.Errorf("ClosingOf(2024-03) = %+v", got)
	}
	if got := p.ClosingOf("2023-01", at("2024-03-02T00:00:00Z")); got != (MonthClosing{Month: "2023-01"}) {
		t.Errorf("ClosingOf(2023-01) = %+v", got)
	}
}

func TestInfoNewestWinsAndDuplicatesCountOnce(t *testing.T) {
	newer := info("i9", "2024-03-05T00:00:00Z", "Mug, red", "Home & Kitchen", money("5.95"), nil)
	older := info("i1", "2024-03-01T00:00:00Z", "Mug, blue", "Toys & Games", money("4.95"), money("2.10"))
	for _, order := range [][]*event.InventoryRecord{{older, newer}, {newer, older}} {
		p := New("P1")
		for _, r := range order {
			p.Apply(r)
		}
		// The newer one sets the fields it carries; the cost, which it does not carry, stays.
		got := fmt.Sprintf("%s|%s|%v|%v|%s", p.Name, p.Category, p.Price, p.Cost, p.InfoID)
		if order[0] == older && got != "Mug, red|Home & Kitchen|5.95|2.10|i9" {
			t.Errorf("in order: %s", got)
		}
		if order[0] == newer && got != "Mug, red|Home & Kitchen|5.95|<nil>|i9" {
			// Out of order the older product_info is ignored entirely, its cost included.
			t.Errorf("out of order: %s", got)
		}
	}
	p := New("P1")
	results := []Result{p.Apply(restock("i1", "2024-03-01T06:00:00Z", 5)), p.Apply(restock("i1", "2024-03-01T06:00:00Z", 5)),
		p.Apply(report("i2", "2024-03-01T23:59:00Z", 9)), p.Apply(restock("i1", "2024-03-01T06:00:00Z", 5))}
	if fmt.Sprint(results) != fmt.Sprint([]Result{Applied, Duplicate, Applied, Duplicate}) || p.Duplicates != 2 || p.Applied != 2 || p.OnHand != 9 {
		t.Errorf("results %v duplicates %d applied %d on-hand %d", results, p.Duplicates, p.Applied, p.OnHand)
	}
	// A duplicate of an early report arriving after the closing one changes nothing.
	p.Apply(report("i0", "2024-03-01T00:00:00Z", 40))
	if got := p.Apply(report("i0", "2024-03-01T00:00:00Z", 40)); got != Duplicate || p.Level != 9 {
		t.Errorf("late duplicate report: %v, level %d", got, p.Level)
	}
	// Restocks at a report's own instant are included in it; later ones add.
	q := New("P1")
	q.Apply(report("b", "2024-03-01T10:00:00Z", 3))
	q.Apply(restock("a", "2024-03-01T10:00:00Z", 100))
	q.Apply(restock("c", "2024-03-01T10:00:01Z", 2))
	if q.OnHand != 5 || q.Level != 3 {
		t.Errorf("on-hand %d level %d, want 5 3", q.OnHand, q.Level)
	}
}

// history is a random product history over days, with the time order the reference reads.
func history(r *rand.Rand, days int) []*event.InventoryRecord {
	start := at("2024-01-30T00:00:00Z")
	var out []*event.InventoryRecord
	n := 0
	id := func() string { n++; return fmt.Sprintf("i%06d", n) }
	for d := 0; d < days; d++ {
		t0 := start.AddDate(0, 0, d)
		if d == 0 || r.IntN(10) == 0 {
			c := event.Money(100 + r.IntN(5000))
			out = append(out, &event.InventoryRecord{EventID: id(), Type: event.ProductInfo, SKU: "P1", Cost: &c,
				Time: t0.Add(time.Duration(r.IntN(86400)) * time.Second)})
		}
		if r.IntN(3) == 0 {
			out = append(out, &event.InventoryRecord{EventID: id(), Type: event.Restock, SKU: "P1", Units: int64(r.IntN(50)),
				Time: t0.Add(6 * time.Hour)})
		}
		for k := r.IntN(3); k > 0; k-- { // 0, 1 or 2 reports: days without one carry forward
			out = append(out, &event.InventoryRecord{EventID: id(), Type: event.StockReport, SKU: "P1", Units: int64(r.IntN(500)),
				Time: t0.Add(time.Duration(r.IntN(86400)) * time.Second)})
		}
	}
	return out
}

// reference computes the closing months the plain way: every day from the first report to asOf,
// the last report of the day by (time, id), else carried forward; cost in force at the day's end,
// else the last cost of all.
func reference(recs []*event.InventoryRecord, asOf time.Time) []MonthClosing {
	sorted := append([]*event.InventoryRecord(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Time.Equal(sorted[j].Time) {
			return sorted[i].Time.Before(sorted[j].Time)
		}
		return sorted[i].EventID < sorted[j].EventID
	})
	var lastCost *event.Money
	for _, r := range sorted {
		if r.Cost != nil {
			lastCost = r.Cost
		}
	}
	var out []MonthClosing
	level, i := int64(-1), 0
	var cost *event.Money
	for d := sorted[0].Time.Truncate(day); !d.After(asOf.Truncate(day)); d = d.Add(day) {
		for ; i < len(sorted) && sorted[i].Time.Before(d.Add(day)); i++ {
			switch r := sorted[i]; r.Type {
			case event.StockReport:
				level = r.Units
			case event.ProductInfo:
				cost = r.Cost
			}
		}
		if level < 0 {
			continue
		}
		c := cost
		if c == nil {
			c = lastCost
		}
		m := d.Format("2006-01")
		if len(out) == 0 || out[len(out)-1].Month != m {
			out = append(out, MonthClosing{Month: m})
		}
		out[len(out)-1].Days++
		out[len(out)-1].UnitsSum += level
		out[len(out)-1].ValueSum += event.Money(level) * *c
	}
	return out
}

// TestOutOfOrderAndFinalDays applies random histories with records moved up to maxShift days
// out of order (as records of messy SKUs arrive through other raw partitions) and checks the
// closing months against the reference, before and after days become final. Moves beyond the
// horizon make records late: they are counted and change nothing.
func TestOutOfOrderAndFinalDays(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		days := 20 + r.IntN(100)
		recs := history(r, days)
		// Each record arrives up to 8 places away from its place in time (a few days at most).
		arrival := append([]*event.InventoryRecord(nil), recs...)
		pos := make(map[*event.InventoryRecord]int, len(recs))
		for i, rec := range recs {
			pos[rec] = i + r.IntN(8)
		}
		sort.SliceStable(arrival, func(i, j int) bool { return pos[arrival[i]] < pos[arrival[j]] })
		p := New("P1")
		for _, rec := range arrival {
			if got := p.Apply(rec); got != Applied {
				t.Fatalf("seed %d: %s at %s: %v", seed, rec.EventID, rec.Time, got)
			}
			if got := p.Apply(rec); got != Duplicate {
				t.Fatalf("seed %d: second %s: %v", seed, rec.EventID, got)
			}
		}
		last := recs[len(recs)-1].Time
		for _, asOf := range []time.Time{last, last.AddDate(0, 0, 40)} {
			want := reference(recs, asOf)
			if got := p.Closing(asOf); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d (%d days, %d folded months, %d in window): Closing(%s)\n got %+v\nwant %+v",
					seed, days, len(p.Closed), len(p.Window), asOf.Format(time.DateOnly), got, want)
			}
		}
		// The window holds the open days only: nothing at or before the last final day.
		if days > HorizonDays+2 && (p.Base.Through.IsZero() || !dayOf(p.Window[0].At).After(p.Base.Through) ||
			dayOf(p.Updated).Sub(p.Base.Through) != HorizonDays*day) {
			t.Errorf("seed %d: %d days, final through %s, window from %s, newest %s", seed, days, p.Base.Through, p.Window[0].At, p.Updated)
		}
		if !p.Base.Through.IsZero() {
			old := &event.InventoryRecord{EventID: "old", Type: event.StockReport, SKU: "P1", Units: 1, Time: p.Base.Through.Add(time.Hour)}
			before := p.Closing(last)
			if got := p.Apply(old); got != Late || p.Late != 1 || !reflect.DeepEqual(p.Closing(last), before) {
				t.Errorf("seed %d: record of a final day: %v, late %d", seed, got, p.Late)
			}
		}
	}
}

func TestMonthsKeptAndSaturation(t *testing.T) {
	p := New("P1")
	for d := 0; d < 50*31; d += 3 {
		tm := at("2020-01-01T12:00:00Z").AddDate(0, 0, d)
		p.Apply(&event.InventoryRecord{EventID: fmt.Sprint(d), Type: event.StockReport, SKU: "P1", Units: 1, Time: tm})
	}
	if len(p.Closed) != MonthsKept {
		t.Errorf("%d folded months kept, want %d", len(p.Closed), MonthsKept)
	}
	big := New("P1")
	big.Apply(info("c", "2024-01-01T00:00:00Z", "", "", nil, money("9000000000000")))
	big.Apply(report("r", "2024-01-01T00:00:00Z", 10_000_000))
	got := big.ClosingOf("2024-01", at("2024-01-31T00:00:00Z"))
	if got.ValueSum != event.Money(maxInt) || got.UnitsSum != 310_000_000 {
		t.Errorf("absurd stock value %+v, want value pinned at the int64 limit", got)
	}
	none := New("P1")
	none.Apply(report("r", "2024-01-01T00:00:00Z", 4))
	if got := none.ClosingOf("2024-01", at("2024-01-02T00:00:00Z")); got != (MonthClosing{Month: "2024-01", Days: 2, UnitsSum: 8, Unvalued: 2}) {
		t.Errorf("without any cost: %+v", got)
	}
}

// BenchmarkApply applies a day's records (restock, report) to a product whose window is full,
// folding a day each time: the product table's work per record.
func BenchmarkApply(b *testing.B) {
	p := New("P1")
	t0 := at("2024-01-01T00:00:00Z")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d := t0.AddDate(0, 0, i/2)
		r := &event.InventoryRecord{EventID: fmt.Sprint(i), Type: event.Restock, SKU: "P1", Units: 10, Time: d.Add(6 * time.Hour)}
		if i%2 == 1 {
			r.Type, r.Units, r.Time = event.StockReport, int64(i%300), d.Add(23*time.Hour)
		}
		if p.Apply(r) != Applied {
			b.Fatal("not applied")
		}
	}
}
