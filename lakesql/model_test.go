package lakesql_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/lakesql"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/reports"
)

// history is a hand-made set of clean transaction lines and inventory records, and the live
// reports' Data built from them with the live tables' own value types (sales.ProductSales,
// sales.OrderMonth, product.Product), as the processors would apply them.
type history struct {
	lines   []event.TransactionLine
	records []event.InventoryRecord
	data    *reports.Data
}

// makeHistory builds about 100 days of orders over 12 products (ties in units on purpose,
// refunds and returns, three-decimal prices) and inventory for 9 SKUs: several stock reports in
// a day (some at the same instant, told apart by event id), restocks, cost changes, duplicated
// event ids, a SKU that never sells and one without any cost.
func makeHistory(seed uint64) *history {
	rng := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	h := &history{}
	for day := 0; day < 100; day++ {
		for o := 0; o < 1+rng.IntN(4); o++ {
			at := start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(86400)) * time.Second)
			order := fmt.Sprintf("O%03d-%d", day, o)
			for l := 0; l < 1+rng.IntN(3); l++ {
				typ := event.Purchase
				switch rng.IntN(10) {
				case 0:
					typ = event.Refund
				case 1:
					typ = event.Return
				}
				h.lines = append(h.lines, event.TransactionLine{
					LineID: fmt.Sprintf("%s-%d", order, l), OrderID: order, Type: typ, UserID: fmt.Sprintf("ps-u%d", rng.IntN(30)),
					ProductID: fmt.Sprintf("P%03d", 1+rng.IntN(12)), Quantity: int64(1 + rng.IntN(5)),
					UnitPrice: event.Money(500 + rng.IntN(20000)), Currency: "GBP", Country: "UK", Time: at,
				})
			}
		}
	}
	for sku := 1; sku <= 9; sku++ {
		id := fmt.Sprintf("P%03d", sku)
		if sku == 9 {
			id = "P099" // known to inventory only
		}
		n := 0
		add := func(r event.InventoryRecord) {
			n++
			r.SKU, r.EventID = id, fmt.Sprintf("%s-e%04d", id, n)
			h.records = append(h.records, r)
		}
		for day := 3 * sku; day < 105; day += 1 + rng.IntN(6) {
			at := start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(80000)) * time.Second)
			if sku != 8 && (day == 3*sku || rng.IntN(5) == 0) {
				cost := event.Money(200 + rng.IntN(9000))
				add(event.InventoryRecord{Type: event.ProductInfo, Name: "Thing " + id, Cost: &cost, Time: at})
			}
			add(event.InventoryRecord{Type: event.StockReport, Units: int64(rng.IntN(300)), Time: at})
			if rng.IntN(3) == 0 { // a second report at the same instant: the greater event id wins
				add(event.InventoryRecord{Type: event.StockReport, Units: int64(rng.IntN(300)), Time: at})
			}
			if rng.IntN(3) == 0 {
				add(event.InventoryRecord{Type: event.Restock, Units: int64(1 + rng.IntN(50)), Time: at.Add(time.Hour)})
			}
			if rng.IntN(6) == 0 { // a duplicate: same event id, changes nothing
				h.records = append(h.records, h.records[len(h.records)-1])
			}
		}
	}
	slices.SortStableFunc(h.records, func(a, b event.InventoryRecord) int { return a.Time.Compare(b.Time) })
	h.data = liveData(h.lines, h.records)
	return h
}

// liveData applies the lines and records as the sales, revenue and inventory processors do.
func liveData(lines []event.TransactionLine, records []event.InventoryRecord) *reports.Data {
	products := map[string]*sales.ProductSales{}
	orders := map[string]*sales.OrderMonth{}
	d := &reports.Data{Inventory: map[string]*product.Product{}}
	for i := range lines {
		l := &lines[i]
		p := products[l.ProductID]
		if p == nil {
			p = &sales.ProductSales{ProductID: l.ProductID}
			products[l.ProductID] = p
			d.Products = append(d.Products, p)
		}
		if err := p.Add(l); err != nil {
			panic(err)
		}
		key := sales.OrderKey(sales.Month(l.Time), l.OrderID)
		o := orders[key]
		if o == nil {
			o = &sales.OrderMonth{Month: sales.Month(l.Time), OrderID: l.OrderID}
			orders[key] = o
			d.Orders = append(d.Orders, o)
		}
		if err := o.Add(l); err != nil {
			panic(err)
		}
	}
	for i := range records {
		r := &records[i]
		p := d.Inventory[r.SKU]
		if p == nil {
			p = product.New(r.SKU)
			d.Inventory[r.SKU] = p
		}
		p.Apply(r)
	}
	return d
}

// writeLake writes the history as the lake writer lays it out: one file per dataset and UTC
// date, rows in order.
func (h *history) writeLake(t *testing.T, dir string) {
	t.Helper()
	txByDate := map[string][]lake.TransactionRow{}
	for i, l := range h.lines {
		amount, err := l.Amount()
		if err != nil {
			t.Fatal(err)
		}
		date := l.Time.Format("2006-01-02")
		txByDate[date] = append(txByDate[date], lake.TransactionRow{LineID: l.LineID, OrderID: l.OrderID,
			Type: string(l.Type), UserPseudonym: l.UserID, ProductID: l.ProductID, Quantity: l.Quantity,
			UnitPrice: int64(l.UnitPrice), Amount: int64(amount), Currency: l.Currency, Country: l.Country,
			EventTime: l.Time, Origin: fmt.Sprintf("t/0/%d", i), KafkaOffset: int64(i)})
	}
	invByDate := map[string][]lake.InventoryRow{}
	for i, r := range h.records {
		date := r.Time.Format("2006-01-02")
		row := lake.InventoryRow{EventID: r.EventID, Type: string(r.Type), SKU: r.SKU, Name: r.Name,
			Units: r.Units, EventTime: r.Time, Origin: fmt.Sprintf("i/0/%d", i), KafkaOffset: int64(i)}
		if r.Cost != nil {
			c := int64(*r.Cost)
			row.Cost = &c
		}
		invByDate[date] = append(invByDate[date], row)
	}
	writeDates(t, dir, lake.Transactions, txByDate)
	writeDates(t, dir, lake.Inventory, invByDate)
}

func writeDates[T any](t *testing.T, dir, dataset string, byDate map[string][]T) {
	t.Helper()
	for date, rows := range byDate {
		path := filepath.Join(dir, "events", dataset, "date="+date, "part-0-0-0.parquet")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := parquet.WriteFile(path, rows); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportsEqualLiveRules builds the live reports' Data with the live tables' own value types
// and a lake of the same lines and records, and checks that the SQL reports equal the live ones
// field for field (money exact, ratios bit for bit) and print identically in every format, at the
// default as-of time, inside the history and after it.
func TestReportsEqualLiveRules(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			h := makeHistory(seed)
			dir := t.TempDir()
			h.writeLake(t, dir)
			db, err := lakesql.Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			latest := h.data.Latest()
			for _, asOf := range []time.Time{{}, latest.AddDate(0, 0, -20), latest.AddDate(0, 0, 17)} {
				compareReports(t, db, h.data, asOf)
			}
			var sold, turnoverRows int
			for _, r := range reports.InventoryTurnover(h.data, time.Time{}) {
				if r.Turnover != nil && r.ValueTurnover != nil {
					turnoverRows++
				}
				if r.UnitsSold > 0 {
					sold++
				}
			}
			// The history exercises the ratios: most product months have both.
			if turnoverRows < 20 || sold < 30 {
				t.Errorf("only %d product months with both turnovers, %d with sales", turnoverRows, sold)
			}
			t.Logf("%d lines, %d inventory records; %d product months with turnovers", len(h.lines), len(h.records), turnoverRows)
		})
	}
}

// compareReports checks the three reports at asOf, as values and as printed in every format.
func compareReports(t *testing.T, db *lakesql.DB, d *reports.Data, asOf time.Time) {
	t.Helper()
	ctx := context.Background()
	rev, err := db.MonthlyRevenue(ctx, asOf)
	same(t, "monthly revenue", asOf, rev, err, reports.MonthlyRevenue(d, asOf), reports.RevenueTable)
	top, err := db.TopProducts(ctx, asOf)
	same(t, "top products", asOf, top, err, reports.TopProducts(d, asOf), reports.TopTable)
	turn, err := db.InventoryTurnover(ctx, asOf)
	wantTurn := reports.InventoryTurnover(d, asOf)
	if len(turn) != len(wantTurn) {
		t.Errorf("as of %v: %d turnover rows, live %d", asOf, len(turn), len(wantTurn))
	}
	for i := range min(len(turn), len(wantTurn)) {
		if !reflect.DeepEqual(turn[i], wantTurn[i]) {
			t.Errorf("as of %v: turnover row %d\n got %s\nwant %s", asOf, i, dump(turn[i]), dump(wantTurn[i]))
		}
	}
	same(t, "inventory turnover", asOf, turn, err, wantTurn, reports.TurnoverTable)
}

// same checks that a lake report equals the live one and prints identically in every format.
func same[T any](t *testing.T, what string, asOf time.Time, got T, err error, want T, table func(T) reports.Table) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s as of %v: %v", what, asOf, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s as of %v\n got %+v\nwant %+v", what, asOf, got, want)
	}
	samePrint(t, what, table(got), got, table(want), want)
}

func samePrint(t *testing.T, what string, got reports.Table, gotValue any, want reports.Table, wantValue any) {
	t.Helper()
	for _, f := range reports.Formats {
		var a, b bytes.Buffer
		if err := reports.Write(&a, f, got, gotValue); err != nil {
			t.Fatal(err)
		}
		if err := reports.Write(&b, f, want, wantValue); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%s printed as %s differs:\n%s\nlive:\n%s", what, f, a.String(), b.String())
		}
	}
}

func dump(r reports.TurnoverRow) string {
	opt := func(m *event.Money) string {
		if m == nil {
			return "nil"
		}
		return m.String()
	}
	optf := func(f *float64) string {
		if f == nil {
			return "nil"
		}
		return fmt.Sprint(*f)
	}
	return fmt.Sprintf("%s %s sold %d cost %s cogs %s days %d units %d value %s avg %v avgval %s t %s vt %s doi %s",
		r.Month, r.ProductID, r.UnitsSold, opt(r.UnitCost), opt(r.COGS), r.ClosingDays, r.ClosingUnitsSum,
		r.ClosingValueSum, r.AvgOnHand, r.AvgInventoryValue, optf(r.Turnover), optf(r.ValueTurnover), optf(r.DaysOfInventory))
}
