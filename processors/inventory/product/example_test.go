package product_test

import (
	"fmt"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/inventory/product"
)

// The inventory-turnover inputs of a month: average on-hand units and average inventory value
// from the closing sums, counted up to the as-of date.
func ExampleProduct_Closing() {
	cost := event.MustMoney("2.10")
	p := product.New("P0007")
	p.Apply(&event.InventoryRecord{EventID: "i1", Type: event.ProductInfo, SKU: "P0007", Cost: &cost,
		Time: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)})
	p.Apply(&event.InventoryRecord{EventID: "i2", Type: event.StockReport, SKU: "P0007", Units: 12,
		Time: time.Date(2024, 3, 1, 23, 59, 0, 0, time.UTC)})
	p.Apply(&event.InventoryRecord{EventID: "i3", Type: event.StockReport, SKU: "P0007", Units: 6,
		Time: time.Date(2024, 3, 3, 23, 59, 0, 0, time.UTC)})

	asOf := time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC) // 03-02 carries 12, 03-04 carries 6
	for _, m := range p.Closing(asOf) {
		avgUnits := float64(m.UnitsSum) / float64(m.Days)
		avgValue := m.ValueSum.Float() / float64(m.Days)
		fmt.Printf("%s: %d days, %d unit-days, value %s: average %.1f units, %.2f at cost\n",
			m.Month, m.Days, m.UnitsSum, m.ValueSum, avgUnits, avgValue)
	}
	// Output: 2024-03: 4 days, 36 unit-days, value 75.60: average 9.0 units, 18.90 at cost
}
