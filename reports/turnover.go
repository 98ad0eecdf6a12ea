package reports

import (
	"sort"
	"time"

	"github.com/shopease/shopease/event"
)

// TurnoverRow is one product in one month of the inventory turnover report.
//
// The rule (DESIGN.md "Definitions", docs/formats.md, README "Inventory turnover"):
//
//   - UnitsSold: Σ quantity of the month's accepted purchase lines (sales table).
//   - Closing stock (inventory product table, product.Product.ClosingOf(month, asOf)): the
//     closing level of a day is the units of the product's last stock report of that day by event
//     time (restocks do not move it), carried forward from the previous day when the day has none, unknown before
//     the first report. ClosingDays counts the month's days up to asOf with a known level,
//     ClosingUnitsSum adds their levels, ClosingValueSum adds level × the cost in force that day.
//   - AvgOnHand = ClosingUnitsSum / ClosingDays; AvgInventoryValue = ClosingValueSum /
//     ClosingDays rounded half up to a cent (display only).
//   - UnitCost is the product's current cost; COGS = UnitsSold × UnitCost (exact).
//   - Turnover = UnitsSold / AvgOnHand, computed as UnitsSold × ClosingDays / ClosingUnitsSum so
//     that no rounded average enters it; ValueTurnover = COGS × ClosingDays / ClosingValueSum;
//     DaysOfInventory = days in the calendar month / Turnover. Each is nil when its divisor is 0
//     (no known level, an empty shelf all month, no cost, or no sales).
type TurnoverRow struct {
	ProductID         string       `json:"product_id"`
	Month             string       `json:"month"`
	UnitsSold         int64        `json:"units_sold"`
	UnitCost          *event.Money `json:"unit_cost,omitempty"`
	COGS              *event.Money `json:"cogs,omitempty"`
	ClosingDays       int64        `json:"closing_days"`
	ClosingUnitsSum   int64        `json:"closing_units_sum"`
	ClosingValueSum   event.Money  `json:"closing_value_sum"`
	AvgOnHand         float64      `json:"avg_on_hand"`
	AvgInventoryValue event.Money  `json:"avg_inventory_value"`
	Turnover          *float64     `json:"turnover,omitempty"`
	ValueTurnover     *float64     `json:"value_turnover,omitempty"`
	DaysOfInventory   *float64     `json:"days_of_inventory,omitempty"`
}

// InventoryTurnover computes a row for every product (in the sales or the product table) and
// every month with sales up to asOf's month (zero: Data.Latest), ordered by month then product id.
// Closing stock counts days up to asOf.
func InventoryTurnover(d *Data, asOf time.Time) []TurnoverRow {
	asOf = d.AsOf(asOf)
	ids := map[string]bool{}
	for _, p := range d.Products {
		ids[p.ProductID] = true
	}
	for sku := range d.Inventory {
		ids[sku] = true
	}
	sold := map[string]map[string]int64{}
	for _, p := range d.Products {
		m := map[string]int64{}
		for _, mt := range p.Months {
			m[mt.Month] = mt.UnitsSold
		}
		sold[p.ProductID] = m
	}
	products := make([]string, 0, len(ids))
	for id := range ids {
		products = append(products, id)
	}
	sort.Strings(products)
	var rows []TurnoverRow
	for _, month := range d.months(asOf) {
		for _, id := range products {
			r := TurnoverRow{ProductID: id, Month: month, UnitsSold: sold[id][month]}
			if inv := d.Inventory[id]; inv != nil {
				c := inv.ClosingOf(month, asOf)
				r.ClosingDays, r.ClosingUnitsSum, r.ClosingValueSum = c.Days, c.UnitsSum, c.ValueSum
				if inv.Cost != nil {
					cost := *inv.Cost
					r.UnitCost = &cost
					if cogs, err := cost.Times(r.UnitsSold); err == nil {
						r.COGS = &cogs
					}
				}
			}
			r.derive(month)
			rows = append(rows, r)
		}
	}
	return rows
}

// derive computes the averages and ratios from the sums.
func (r *TurnoverRow) derive(month string) {
	if r.ClosingDays == 0 {
		return
	}
	r.AvgOnHand = float64(r.ClosingUnitsSum) / float64(r.ClosingDays)
	r.AvgInventoryValue = roundDiv(r.ClosingValueSum, r.ClosingDays)
	if r.ClosingUnitsSum > 0 {
		t := float64(r.UnitsSold) * float64(r.ClosingDays) / float64(r.ClosingUnitsSum)
		r.Turnover = &t
		if t > 0 {
			doi := float64(daysIn(month)) / t
			r.DaysOfInventory = &doi
		}
	}
	if r.COGS != nil && r.ClosingValueSum > 0 {
		v := float64(*r.COGS) * float64(r.ClosingDays) / float64(r.ClosingValueSum)
		r.ValueTurnover = &v
	}
}

// roundDiv divides m by n > 0, rounding half away from zero to a whole cent.
func roundDiv(m event.Money, n int64) event.Money {
	const cent = event.MoneyScale / 100
	v := int64(m)
	neg := v < 0
	if neg {
		v = -v
	}
	q := (v + cent*n/2) / (cent * n)
	if neg {
		q = -q
	}
	return event.Money(q * cent)
}
