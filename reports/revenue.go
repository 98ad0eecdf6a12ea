package reports

import (
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/sales"
)

// MonthRow is one month of the monthly revenue report.
type MonthRow struct {
	Month   string      `json:"month"`
	Gross   event.Money `json:"gross"`
	Refunds event.Money `json:"refunds"`
	Returns event.Money `json:"returns"`
	Net     event.Money `json:"net"`
	// Orders counts distinct order ids with at least one accepted purchase line in the month.
	Orders        int64 `json:"orders"`
	PurchaseLines int64 `json:"purchase_lines"`
	RefundLines   int64 `json:"refund_lines"`
	ReturnLines   int64 `json:"return_lines"`
	UnitsSold     int64 `json:"units_sold"`
	// Change is Net minus the previous row's Net (nil on the first row); ChangePct is Change as a
	// percentage of the previous Net's magnitude (nil also when that Net is 0). The previous row is
	// the previous month with sales, which is the calendar month before unless the data has a gap.
	Change    *event.Money `json:"change,omitempty"`
	ChangePct *float64     `json:"change_pct,omitempty"`
}

// MonthlyRevenue sums the revenue table per month, for every month up to asOf's month (zero:
// Data.Latest), with the month-over-month change of net.
func MonthlyRevenue(d *Data, asOf time.Time) []MonthRow {
	asOf = d.AsOf(asOf)
	byMonth := map[string]*sales.Totals{}
	orders := map[string]int64{}
	for _, o := range d.Orders {
		t := byMonth[o.Month]
		if t == nil {
			t = &sales.Totals{}
			byMonth[o.Month] = t
		}
		t.Merge(o.Totals)
		if o.Counted() {
			orders[o.Month]++
		}
	}
	var rows []MonthRow
	for _, m := range d.months(asOf) {
		t := byMonth[m]
		if t == nil {
			t = &sales.Totals{}
		}
		r := MonthRow{Month: m, Gross: t.Gross, Refunds: t.Refunds, Returns: t.Returns, Net: t.Net(),
			Orders: orders[m], PurchaseLines: t.PurchaseLines, RefundLines: t.RefundLines,
			ReturnLines: t.ReturnLines, UnitsSold: t.UnitsSold}
		if n := len(rows); n > 0 {
			prev := rows[n-1].Net
			ch := r.Net - prev
			r.Change = &ch
			if prev != 0 {
				p := float64(ch) / float64(abs(int64(prev))) * 100
				r.ChangePct = &p
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
