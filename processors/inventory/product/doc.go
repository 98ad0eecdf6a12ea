// Package product is the value of the inventory processor's product table: one product's current
// state (name, category, price, cost, on-hand units) and its daily closing stock, with the rules
// that update it from standardized inventory records and that read the closing stock back for the
// inventory-turnover reports.
//
// # Closing stock
//
// The closing level of a product on a UTC day is the units of its last stock_report of that day by
// event time (ties: the greatest event id), else the previous day's closing level carried forward,
// else unknown (before its first stock report). Restocks move on-hand units but not the closing
// level, which is what the stock report says (generate's ground truth uses the same rule). A day
// is valued at the cost in force at its end (the cost of the last product_info at or before it;
// before the first known cost, the current cost).
//
// Records of one product may arrive out of event-time order: the raw topic is keyed by the SKU as
// received, so " p0007 " and "P0007" travel through different partitions before they meet under
// the canonical key. The value therefore keeps every record of the last HorizonDays days of event
// time (its Window, which is also the set of event ids that duplicates are recognized by) and
// derives closing levels from it in event-time order, whatever the arrival order.
//
// A day is final when the product's newest record is more than HorizonDays days later: it is then
// folded into per-month sums (Closed) and its records leave the Window. A record of a final day
// arrives too late to be placed exactly; it is counted in Late and changes nothing. Until then
// a day's closing is provisional and Closing computes it, carried forward to any as-of date. The
// horizon follows the newest event time, so one record dated far ahead (the gateway accepts up to
// 2099) makes a product's earlier days final at once; its later records then count as late.
//
// Reading: Closing(asOf) returns per month the days with a known level, the sum of the levels and
// the sum of level × cost, counting every day up to asOf; average on-hand = UnitsSum / Days and
// average inventory value = ValueSum / Days, so turnover = units sold / average on-hand and value
// turnover = COGS / average inventory value.
package product
