// Package reports answers the three business questions live from processor state: top-10
// products of the last complete month, monthly revenue with its month-over-month change, and
// inventory turnover per product and month.
//
// Load reads the sales, revenue and inventory product tables through goka views; TopProducts,
// MonthlyRevenue and InventoryTurnover compute the reports from that Data with the definitions of
// DESIGN.md ("Definitions"); Write prints them as an aligned table, CSV or JSON. Money stays exact
// (event.Money) in every sum; floats appear only in ratios.
//
// The as-of date defaults to the newest event time of any applied transaction line (kept per
// product in the sales table), never the wall clock, so a replayed history reports as it would
// have live.
package reports
