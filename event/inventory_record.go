package event

import "time"

// InventoryRecord is one standardized inventory update: what the inventory processor emits to
// shopease.clean.inventory, keyed by the canonical SKU, for every raw InventoryUpdate it accepts.
// Every field is in canonical form (docs/formats.md "Inventory standardization"), so consumers
// never see source text such as "$1,299.00" or " p0007 ".
type InventoryRecord struct {
	EventID  string        `json:"event_id"`           // as received; duplicates share it; required
	Type     InventoryType `json:"type"`               // required
	SKU      string        `json:"sku"`                // canonical: trimmed, upper case; required
	Name     string        `json:"name,omitempty"`     // white space trimmed and collapsed
	Category string        `json:"category,omitempty"` // canonical ("Home & Kitchen")
	// Price and Cost are nil when the update does not carry them (stock reports and restocks
	// usually do not); a product_info without one leaves the product's value unchanged.
	Price *Money `json:"price,omitempty"`
	Cost  *Money `json:"cost,omitempty"`
	// Units is the on-hand level of a stock_report or the units received by a restock, never
	// negative; 0 for product_info.
	Units  int64     `json:"units"`
	Time   time.Time `json:"time"`             // event time, UTC; required
	Source string    `json:"source,omitempty"` // provenance as received, e.g. "2024-03-01.csv:17"
}
