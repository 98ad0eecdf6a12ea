package reports

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/sales"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func money(s string) event.Money { return event.MustMoney(s) }

func mp(s string) *event.Money { m := event.MustMoney(s); return &m }

func fp(f float64) *float64 { return &f }

// fixture: three products over two months, three orders, and stock for product A.
func fixture(t *testing.T) *Data {
	t.Helper()
	d := &Data{
		Products: []*sales.ProductSales{
			{ProductID: "B", Latest: day("2024-03-10"), Months: []sales.MonthTotals{
				{Month: "2024-02", Totals: sales.Totals{PurchaseLines: 1, UnitsSold: 5, Gross: money("10.00")}},
				{Month: "2024-03", Totals: sales.Totals{PurchaseLines: 1, UnitsSold: 1, Gross: money("2.00")}}}},
			{ProductID: "A", Latest: day("2024-03-02"), Months: []sales.MonthTotals{
				{Month: "2024-02", Totals: sales.Totals{PurchaseLines: 2, UnitsSold: 5, Gross: money("7.50"),
					ReturnLines: 1, UnitsReturned: 1, Returns: money("-1.50")}}}},
			{ProductID: "C", Latest: day("2024-02-20"), Months: []sales.MonthTotals{
				{Month: "2024-02", Totals: sales.Totals{PurchaseLines: 1, UnitsSold: 2, Gross: money("0.665")}}}},
		},
		Orders: []*sales.OrderMonth{
			{Month: "2024-02", OrderID: "O1", Totals: sales.Totals{PurchaseLines: 3, UnitsSold: 10, Gross: money("17.50")}},
			{Month: "2024-02", OrderID: "O2", Totals: sales.Totals{PurchaseLines: 1, UnitsSold: 2, Gross: money("0.665"),
				ReturnLines: 1, UnitsReturned: 1, Returns: money("-1.50")}},
			{Month: "2024-03", OrderID: "O1", Totals: sales.Totals{RefundLines: 1, Refunds: money("-5.00")}},
			{Month: "2024-03", OrderID: "O3", Totals: sales.Totals{PurchaseLines: 1, UnitsSold: 1, Gross: money("2.00")}},
		},
		Inventory: map[string]*product.Product{},
	}
	a := product.New("A")
	for _, r := range []*event.InventoryRecord{
		{EventID: "i1", Type: event.ProductInfo, SKU: "A", Cost: mp("0.50"), Time: day("2024-02-01")},
		{EventID: "s1", Type: event.StockReport, SKU: "A", Units: 10, Time: day("2024-02-27").Add(9 * time.Hour)},
		{EventID: "s2", Type: event.StockReport, SKU: "A", Units: 4, Time: day("2024-02-29").Add(18 * time.Hour)},
	} {
		if got := a.Apply(r); got != product.Applied {
			t.Fatalf("apply %s: %v", r.EventID, got)
		}
	}
	d.Inventory["A"] = a
	return d
}

func TestMonthlyRevenue(t *testing.T) {
	d := fixture(t)
	change := money("-19.665")
	ch, prev := float64(change), float64(money("16.665")) // as the code divides, at run time
	want := []MonthRow{
		{Month: "2024-02", Gross: money("18.165"), Returns: money("-1.50"), Net: money("16.665"), Orders: 2,
			PurchaseLines: 4, ReturnLines: 1, UnitsSold: 12},
		{Month: "2024-03", Gross: money("2.00"), Refunds: money("-5.00"), Net: money("-3.00"), Orders: 1,
			PurchaseLines: 1, RefundLines: 1, UnitsSold: 1, Change: &change, ChangePct: fp(ch / prev * 100)},
	}
	if got := MonthlyRevenue(d, time.Time{}); !reflect.DeepEqual(got, want) {
		t.Errorf("MonthlyRevenue\n got %+v\nwant %+v", got, want)
	}
	// An as-of date in February leaves March out.
	if got := MonthlyRevenue(d, day("2024-02-29")); len(got) != 1 || got[0].Month != "2024-02" {
		t.Errorf("as of 2024-02-29: %+v", got)
	}
	var b bytes.Buffer
	if err := Write(&b, "csv", RevenueTable(want), want); err != nil {
		t.Fatal(err)
	}
	wantCSV := "month,gross,refunds,returns,net,orders,net_change,net_change_pct\n" +
		"2024-02,18.165,0.00,-1.50,16.665,2,,\n" +
		"2024-03,2.00,-5.00,0.00,-3.00,1,-19.665,-118.00\n"
	if b.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), wantCSV)
	}
}

func TestTopProducts(t *testing.T) {
	d := fixture(t)
	// The newest event is 2024-03-10, so the default report covers February; A and B tie on 5
	// units and are ordered by product id.
	want := Top{Month: "2024-02", Rows: []TopRow{
		{Rank: 1, ProductID: "A", Units: 5, Gross: money("7.50")},
		{Rank: 2, ProductID: "B", Units: 5, Gross: money("10.00")},
		{Rank: 3, ProductID: "C", Units: 2, Gross: money("0.665")},
	}}
	if got := TopProducts(d, time.Time{}); !reflect.DeepEqual(got, want) {
		t.Errorf("TopProducts\n got %+v\nwant %+v", got, want)
	}
	if got := TopProducts(d, day("2024-04-01")); got.Month != "2024-03" || len(got.Rows) != 1 || got.Rows[0].ProductID != "B" {
		t.Errorf("as of 2024-04-01: %+v", got)
	}
	for asOf, month := range map[string]string{"2024-01-01": "2023-12", "2024-03-31": "2024-02", "2024-03-01": "2024-02"} {
		if got := PreviousMonth(day(asOf)); got != month {
			t.Errorf("PreviousMonth(%s) = %s, want %s", asOf, got, month)
		}
	}
	var b bytes.Buffer
	if err := Write(&b, "json", TopTable(want), want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte(`"gross": "0.665"`)) {
		t.Errorf("json keeps money exact as a string:\n%s", b.String())
	}
	if err := Write(&b, "xml", TopTable(want), want); err == nil {
		t.Error("an unknown format is accepted")
	}
}

func TestInventoryTurnover(t *testing.T) {
	d := fixture(t)
	rows := InventoryTurnover(d, day("2024-02-29"))
	// A: closing 10 on 02-27 and 02-28, 4 on 02-29 → 3 days, 24 units, value 24 × 0.50 = 12.00.
	a := TurnoverRow{ProductID: "A", Month: "2024-02", UnitsSold: 5, UnitCost: mp("0.50"), COGS: mp("2.50"),
		ClosingDays: 3, ClosingUnitsSum: 24, ClosingValueSum: money("12.00"), AvgOnHand: 8, AvgInventoryValue: money("4.00"),
		Turnover: fp(5.0 * 3 / 24), ValueTurnover: fp(2500.0 * 3 / 12000), DaysOfInventory: fp(29 / (5.0 * 3 / 24))}
	if len(rows) != 3 || !reflect.DeepEqual(rows[0], a) {
		t.Fatalf("rows %+v\nwant first %+v", rows, a)
	}
	// B and C have no stock: no ratios.
	if b := rows[1]; b.ProductID != "B" || b.UnitsSold != 5 || b.Turnover != nil || b.COGS != nil || b.ClosingDays != 0 {
		t.Errorf("B: %+v", b)
	}
	// As of March 2, March counts two days at the carried level 4, nothing sold.
	rows = InventoryTurnover(d, day("2024-03-02"))
	var march TurnoverRow
	for _, r := range rows {
		if r.ProductID == "A" && r.Month == "2024-03" {
			march = r
		}
	}
	wantMarch := TurnoverRow{ProductID: "A", Month: "2024-03", UnitCost: mp("0.50"), COGS: mp("0.00"), ClosingDays: 2,
		ClosingUnitsSum: 8, ClosingValueSum: money("4.00"), AvgOnHand: 4, AvgInventoryValue: money("2.00"),
		Turnover: fp(0), ValueTurnover: fp(0)}
	if !reflect.DeepEqual(march, wantMarch) {
		t.Errorf("A in March\n got %+v\nwant %+v", march, wantMarch)
	}
}

func TestRoundDiv(t *testing.T) {
	for _, c := range []struct {
		m    string
		n    int64
		want string
	}{{"10.00", 3, "3.33"}, {"0.05", 2, "0.03"}, {"-0.05", 2, "-0.03"}, {"0.665", 1, "0.67"}, {"0.664", 1, "0.66"}} {
		if got := roundDiv(money(c.m), c.n); got != money(c.want) {
			t.Errorf("roundDiv(%s, %d) = %s, want %s", c.m, c.n, got, c.want)
		}
	}
}
