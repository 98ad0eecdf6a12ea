// Package lakesql answers SQL over the Parquet lake with DuckDB: it opens an in-memory DuckDB,
// defines views over the lake's event datasets and newest table snapshots, and the business
// reports as views, so analysts get SQL without a cluster and the reports read the same files
// Spark would.
//
// The views are .sql files embedded in the binary (views/*.sql, run in name order; each file's
// leading "--" comment is the view's description, listed by Views). A file may refer to the lake
// through two template functions:
//
//	{{events "transactions"}}  the dataset's Parquet files, Hive-partitioned by date
//	                           (<lake>/events/<dataset>/date=…/*.parquet)
//	{{snapshot "shopease-sales"}}  the part files of the group table's newest complete snapshot,
//	                           exactly those its _manifest.json lists
//
// A dataset without files, or a table without a snapshot, reads as an empty relation of the same
// column types (an empty Parquet file written from the lake's row type into a private temp
// folder), so an empty lake opens and answers every query with no rows; the reports say
// ErrNoTransactions when they need data that is not there.
//
// Money columns are DECIMAL(18,3), exactly event.Money; Query renders decimals with their exact
// digits and never passes money through a float. The report views follow DESIGN.md
// "Definitions" and package reports' rules to the letter (see views/3*.sql); TopProducts,
// MonthlyRevenue and InventoryTurnover return package reports' row types, so a lake report prints
// exactly as the live one (reports.Write).
//
// The session runs in UTC (TimeZone = 'UTC'): months and days are UTC calendar months and days of
// event time, as everywhere in ShopEase.
package lakesql
