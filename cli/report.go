package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/shopease/shopease/reports"
)

// reportNames are the reports `shopease report` knows.
var reportNames = []string{"top-products", "monthly-revenue", "inventory-turnover"}

func reportCmd() *command {
	var (
		cf      clusterFlags
		live    bool
		asOf    string
		format  string
		wait    time.Duration
		lakeDir string
	)
	return &command{
		name:    "report",
		summary: "the business reports: top-products, monthly-revenue, inventory-turnover",
		help: `Prints one report. By default it is answered from the Parquet lake with DuckDB (the views of
'shopease sql': monthly_revenue, top_products, inventory_turnover_at over --lake-dir). With --live
it is computed from the processors' tables (sales, revenue, inventory products), read through
goka views from the cluster; the views are kept in a temporary folder and removed afterwards.
Both follow the same rules and print identically.

  top-products        top 10 products by units in purchase lines over the last complete UTC
                      calendar month before --as-of; ties by product id
  monthly-revenue     per UTC month: gross, refunds, returns, net, distinct orders, and the
                      month-over-month change of net
  inventory-turnover  per product and month: units sold, COGS, average closing on-hand units and
                      value, turnover, value turnover, days of inventory (rule: README)

--as-of defaults to the newest event time of any transaction line seen, not the wall clock.
Money is printed with its exact decimals.

Example:
  shopease report top-products --lake-dir ./data/lake --as-of 2011-12-01
  shopease report monthly-revenue --format csv
  shopease report --live top-products --brokers 127.0.0.1:9092 --as-of 2011-12-01`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			fs.BoolVar(&live, "live", false, "compute the report from the processors' tables instead of the lake")
			fs.StringVar(&lakeDir, "lake-dir", defaultLakeDir, "root of the Parquet lake (without --live)")
			fs.StringVar(&asOf, "as-of", "", "as-of date, YYYY-MM-DD or RFC 3339 (default: the newest event time seen)")
			fs.StringVar(&format, "format", "table", "output format: table, csv or json")
			fs.DurationVar(&wait, "timeout", 2*time.Minute, "how long to wait for the views to catch up")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) != 1 || !slices.Contains(reportNames, args[0]) {
				return usagef("report takes one of %v", reportNames)
			}
			if !slices.Contains(reports.Formats, format) {
				return usagef("--format %q: want one of %v", format, reports.Formats)
			}
			at, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			if !live {
				return lakeReport(ctx, e, args[0], lakeDir, cf.namespace, at, format)
			}
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "shopease-report-")
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			defer os.RemoveAll(dir)
			cfg.DataDir = dir
			ctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			d, err := reports.Load(ctx, cfg)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			switch args[0] {
			case "top-products":
				top := reports.TopProducts(d, at)
				return reports.Write(e.stdout, format, reports.TopTable(top), top)
			case "monthly-revenue":
				rows := reports.MonthlyRevenue(d, at)
				return reports.Write(e.stdout, format, reports.RevenueTable(rows), rows)
			default:
				rows := reports.InventoryTurnover(d, at)
				return reports.Write(e.stdout, format, reports.TurnoverTable(rows), rows)
			}
		},
	}
}

// lakeReport answers a report from the lake (package lakesql) and prints it as the live one.
func lakeReport(ctx context.Context, e *env, name, lakeDir, ns string, at time.Time, format string) error {
	db, err := openLake(ctx, e, lakeDir, ns)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer db.Close()
	switch name {
	case "top-products":
		top, err := db.TopProducts(ctx, at)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return reports.Write(e.stdout, format, reports.TopTable(top), top)
	case "monthly-revenue":
		rows, err := db.MonthlyRevenue(ctx, at)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return reports.Write(e.stdout, format, reports.RevenueTable(rows), rows)
	default:
		rows, err := db.InventoryTurnover(ctx, at)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return reports.Write(e.stdout, format, reports.TurnoverTable(rows), rows)
	}
}

// parseAsOf parses --as-of: empty (zero: the newest event time), a date (its midnight UTC) or an
// RFC 3339 time.
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--as-of %q: want YYYY-MM-DD or RFC 3339", s)
	}
	return t.UTC(), nil
}
