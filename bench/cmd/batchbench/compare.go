package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/reports"
)

// outcome is what the benchmark compares: the three reports' numbers, in the shape of package
// reports (the PySpark job writes the same JSON field names).
type outcome struct {
	name     string
	revenue  []reports.MonthRow // months with at least one line
	top      reports.Top
	turnover map[turnoverKey]reports.TurnoverRow
	// partial: only the rows present are known (the generator's truth lists the product months
	// it tracked); a full outcome must hold every row of a partial one, with equal numbers.
	partial bool
	// tops: the truth's top-10 of every month (the systems report the month before their as-of).
	tops map[string][]generate.ProductUnits
}

type turnoverKey struct{ product, month string }

// ErrDiffer is returned when two outcomes disagree.
var ErrDiffer = errors.New("batchbench: reports differ")

func readTruth(path string) (*outcome, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("batchbench: truth: %w", err)
	}
	var t generate.Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("batchbench: truth %s: %w", path, err)
	}
	o := &outcome{name: "truth", partial: true, turnover: map[turnoverKey]reports.TurnoverRow{}, tops: map[string][]generate.ProductUnits{}}
	for _, m := range t.Months {
		o.revenue = append(o.revenue, reports.MonthRow{Month: m.Month, Gross: m.Gross, Refunds: m.Refunds, Returns: m.Returns, Net: m.Net,
			Orders: m.Orders, PurchaseLines: m.PurchaseLines, RefundLines: m.RefundLines, ReturnLines: m.ReturnLines, UnitsSold: m.PurchaseUnits})
	}
	o.revenue = withLines(o.revenue)
	for _, mt := range t.TopProducts {
		o.tops[mt.Month] = mt.Products
	}
	for _, pm := range t.ProductMonths {
		cost, cogs := pm.UnitCost, pm.COGS
		o.turnover[turnoverKey{pm.ProductID, pm.Month}] = reports.TurnoverRow{ProductID: pm.ProductID, Month: pm.Month, UnitsSold: pm.UnitsSold,
			UnitCost: &cost, COGS: &cogs, ClosingDays: pm.ClosingDays, ClosingUnitsSum: pm.ClosingUnitsSum, ClosingValueSum: pm.ClosingValueSum}
	}
	return o, nil
}

// sparkReports is the JSON the PySpark job writes.
type sparkReports struct {
	Revenue  []reports.MonthRow    `json:"monthly_revenue"`
	Top      reports.Top           `json:"top_products"`
	Turnover []reports.TurnoverRow `json:"inventory_turnover"`
}

func readSparkReports(path string) (*outcome, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("batchbench: spark reports: %w", err)
	}
	var r sparkReports
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("batchbench: spark reports %s: %w", path, err)
	}
	return newOutcome("spark", r.Revenue, r.Top, r.Turnover), nil
}

func readShopeaseReports(out map[string][]byte) (*outcome, error) {
	var r sparkReports
	for name, dst := range map[string]any{"monthly-revenue": &r.Revenue, "top-products": &r.Top, "inventory-turnover": &r.Turnover} {
		if err := json.Unmarshal(out[name], dst); err != nil {
			return nil, fmt.Errorf("batchbench: shopease report %s: %w", name, err)
		}
	}
	return newOutcome("shopease", r.Revenue, r.Top, r.Turnover), nil
}

func newOutcome(name string, rev []reports.MonthRow, top reports.Top, turn []reports.TurnoverRow) *outcome {
	o := &outcome{name: name, revenue: withLines(rev), top: top, turnover: map[turnoverKey]reports.TurnoverRow{}}
	for _, r := range turn {
		o.turnover[turnoverKey{r.ProductID, r.Month}] = r
	}
	return o
}

// withLines drops months without any line and the derived change columns (not compared).
func withLines(rows []reports.MonthRow) []reports.MonthRow {
	var out []reports.MonthRow
	for _, r := range rows {
		if r.PurchaseLines+r.RefundLines+r.ReturnLines > 0 {
			r.Change, r.ChangePct = nil, nil
			out = append(out, r)
		}
	}
	return out
}

// same compares got with o: every number of the three reports (every row of o if o is partial).
func (o *outcome) same(got *outcome) error {
	var diffs []error
	diff := func(format string, args ...any) {
		if len(diffs) < 10 {
			diffs = append(diffs, fmt.Errorf(format, args...))
		}
	}
	if !slices.Equal(o.revenue, got.revenue) {
		diff("monthly revenue: %s %+v, %s %+v", o.name, o.revenue, got.name, got.revenue)
	}
	if o.tops != nil {
		want := o.tops[got.top.Month]
		if len(want) != len(got.top.Rows) {
			diff("top products of %s: %s has %d, %s %d", got.top.Month, o.name, len(want), got.name, len(got.top.Rows))
		}
		for i := range min(len(want), len(got.top.Rows)) {
			if w, g := want[i], got.top.Rows[i]; w.ProductID != g.ProductID || w.Units != g.Units {
				diff("top products of %s, rank %d: %s %+v, %s %+v", got.top.Month, i+1, o.name, w, got.name, g)
			}
		}
	} else if !topEqual(o.top, got.top) {
		diff("top products: %s %+v, %s %+v", o.name, o.top, got.name, got.top)
	}
	if !o.partial && len(o.turnover) != len(got.turnover) {
		diff("inventory turnover: %s has %d rows, %s %d", o.name, len(o.turnover), got.name, len(got.turnover))
	}
	for k, w := range o.turnover {
		g, ok := got.turnover[k]
		if !ok {
			diff("inventory turnover %s %s: missing in %s", k.product, k.month, got.name)
			continue
		}
		if !turnoverEqual(w, g) {
			diff("inventory turnover %s %s: %s %s, %s %s", k.product, k.month, o.name, turnoverString(w), got.name, turnoverString(g))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %w", ErrDiffer, errors.Join(diffs...))
	}
	return nil
}

func topEqual(a, b reports.Top) bool {
	return a.Month == b.Month && slices.EqualFunc(a.Rows, b.Rows, func(x, y reports.TopRow) bool {
		return x.Rank == y.Rank && x.ProductID == y.ProductID && x.Units == y.Units && x.Gross == y.Gross
	})
}

func turnoverEqual(a, b reports.TurnoverRow) bool {
	return a.UnitsSold == b.UnitsSold && moneyEqual(a.UnitCost, b.UnitCost) && moneyEqual(a.COGS, b.COGS) &&
		a.ClosingDays == b.ClosingDays && a.ClosingUnitsSum == b.ClosingUnitsSum && a.ClosingValueSum == b.ClosingValueSum
}

func moneyEqual(a, b *event.Money) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func turnoverString(r reports.TurnoverRow) string {
	m := func(p *event.Money) string {
		if p == nil {
			return "-"
		}
		return p.String()
	}
	return fmt.Sprintf("{sold %d cost %s cogs %s days %d units %d value %s}", r.UnitsSold, m(r.UnitCost), m(r.COGS),
		r.ClosingDays, r.ClosingUnitsSum, r.ClosingValueSum)
}
