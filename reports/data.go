package reports

import (
	"sort"
	"time"

	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/sales"
)

// Data is what the reports are computed from: the contents of the sales, revenue and inventory
// product tables (read live through views by Load, or built by hand in tests).
type Data struct {
	Products  []*sales.ProductSales       // sales table, any order
	Orders    []*sales.OrderMonth         // revenue table, any order
	Inventory map[string]*product.Product // product table by canonical SKU (= product id)
}

// Latest is the newest event time of any applied transaction line: the default as-of date. It is
// kept per product in the sales table (ProductSales.Latest) and is the maximum over them.
func (d *Data) Latest() time.Time {
	var t time.Time
	for _, p := range d.Products {
		if p.Latest.After(t) {
			t = p.Latest
		}
	}
	return t
}

// AsOf returns asOf, or Latest when asOf is zero.
func (d *Data) AsOf(asOf time.Time) time.Time {
	if asOf.IsZero() {
		return d.Latest()
	}
	return asOf.UTC()
}

// months returns every month with a sales line, in order, up to and including asOf's month.
func (d *Data) months(asOf time.Time) []string {
	last := sales.Month(asOf)
	set := map[string]bool{}
	for _, p := range d.Products {
		for _, m := range p.Months {
			if m.Month <= last {
				set[m.Month] = true
			}
		}
	}
	for _, o := range d.Orders {
		if o.Month <= last {
			set[o.Month] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// PreviousMonth returns the last complete UTC calendar month before asOf: the month before
// asOf's month ("2011-12-09" → "2011-11").
func PreviousMonth(asOf time.Time) string {
	t := asOf.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
}

// daysIn returns the number of days of month ("2006-01").
func daysIn(month string) int64 {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return 0
	}
	return int64(t.AddDate(0, 1, 0).Sub(t) / (24 * time.Hour))
}
