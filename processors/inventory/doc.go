// Package inventory is the inventory processor: it standardizes raw inventory updates and keeps
// the product table with each product's current state and daily closing stock.
//
// Two groups:
//
//   - CleanGroup (stateless) reads shopease.inventory (keyed by the SKU as received), decodes
//     every record as bytes, standardizes it (StandardSKU, StandardType, StandardName,
//     StandardCategory, StandardMoney, StandardUnits; docs/formats.md "Inventory
//     standardization") and checks the rules in event/reasons.go order, the first failing one
//     deciding: missing_sku (SKU empty after standardization), bad_type (not stock_report,
//     restock or product_info after trimming and lower-casing), bad_time (outside [2000-01-01,
//     2100-01-01) UTC), bad_quantity (a stock_report or restock whose quantity is not a whole
//     number of units, is negative or is above MaxUnits), bad_price (a price or cost that is not
//     an amount or is negative; blank ones are absent). Accepted records go to
//     shopease.clean.inventory as event.InventoryRecord keyed by canonical SKU and stamped with
//     their raw origin (package fence); rejected ones go to shopease.deadletter with reason,
//     origin and original bytes. Outcomes are reported under Processor ("inventory").
//   - Group reads shopease.clean.inventory and keeps one product.Product per canonical SKU:
//     product_info sets name, category, price and cost (the newest by event time wins);
//     stock_report sets the on-hand level, restock adds to it; the daily closing stock is kept
//     by the rules of package product. A record whose origin is at or below the value's fence is a
//     redelivery and is skipped; a record whose event id is in the product's window of the last
//     product.HorizonDays days is a duplicate and counts once (the generator writes duplicates at
//     the end of the same day's file, well inside that window). Outcomes are reported under
//     ProductsProcessor ("inventory-products"): accepted, duplicate, or late.
//
// Unknown types: the strict codec refuses a type value outside event.InventoryTypes; the gateway
// re-reads such a record with the value set aside (Decode), so that "Stock Report" is
// standardized and anything else is rejected as bad_type after the rules before it.
//
// Run creates shopease.clean.inventory with the raw topic's partition count (EnsureOutputs) and
// runs both groups. NewView and Lookup read the product table.
package inventory
