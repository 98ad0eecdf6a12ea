package reports

import (
	"cmp"
	"slices"
	"time"

	"github.com/shopease/shopease/event"
)

// TopN is the length of the top products report.
const TopN = 10

// TopRow is one product of the top products report.
type TopRow struct {
	Rank      int         `json:"rank"`
	ProductID string      `json:"product_id"`
	Units     int64       `json:"units"` // Σ quantity of the month's purchase lines
	Gross     event.Money `json:"gross"` // Σ amount of the same lines
}

// Top is the top products report: the month it covers and its rows.
type Top struct {
	Month string   `json:"month"`
	Rows  []TopRow `json:"products"`
}

// TopProducts ranks the products of the last complete UTC calendar month before asOf (zero:
// Data.Latest) by units in purchase lines, most first, ties by product id; at most TopN, products
// without a purchase in the month left out.
func TopProducts(d *Data, asOf time.Time) Top {
	return TopProductsOf(d, PreviousMonth(d.AsOf(asOf)))
}

// TopProductsOf ranks the products of month ("2006-01").
func TopProductsOf(d *Data, month string) Top {
	var rows []TopRow
	for _, p := range d.Products {
		if t := p.Month(month); t.UnitsSold > 0 {
			rows = append(rows, TopRow{ProductID: p.ProductID, Units: t.UnitsSold, Gross: t.Gross})
		}
	}
	slices.SortFunc(rows, func(a, b TopRow) int {
		if c := cmp.Compare(b.Units, a.Units); c != 0 {
			return c
		}
		return cmp.Compare(a.ProductID, b.ProductID)
	})
	rows = rows[:min(TopN, len(rows))]
	for i := range rows {
		rows[i].Rank = i + 1
	}
	return Top{Month: month, Rows: rows}
}
