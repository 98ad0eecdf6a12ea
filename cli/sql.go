package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/term"

	"github.com/shopease/shopease/lakesql"
	"github.com/shopease/shopease/processors/topology"
)

// lakeSQLFlags are the flags of the commands that read the lake with SQL (sql, report).
type lakeSQLFlags struct {
	lakeDir   string
	namespace string
}

func (f *lakeSQLFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.lakeDir, "lake-dir", defaultLakeDir, "root of the Parquet lake")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of the table snapshots to read (the prefix 'run' was given)")
}

func (f *lakeSQLFlags) open(ctx context.Context, e *env) (*lakesql.DB, error) {
	return openLake(ctx, e, f.lakeDir, f.namespace)
}

// openLake opens DuckDB over the lake with its views; ns names the table snapshots to read.
func openLake(ctx context.Context, e *env, lakeDir, ns string) (*lakesql.DB, error) {
	return lakesql.Open(ctx, lakeDir, lakesql.WithNamespace(topology.Namespace(ns)), lakesql.WithLogger(e.log))
}

func sqlCmd() *command {
	var (
		lf      lakeSQLFlags
		format  string
		history string
	)
	return &command{
		name:    "sql",
		summary: "SQL over the Parquet lake with DuckDB: a query, or an interactive shell",
		args:    "[QUERY]",
		help: `Runs a SQL query (DuckDB dialect) over the lake and prints the result, or, without a query,
starts an interactive shell. The lake's views are defined on start:

  transactions, activity, inventory, feedback (= reviews), journeys   the event datasets
  inventory_records, purchase_journeys                 the same without duplicates
  sales_table, revenue_table, inventory_table, ...     each group table's newest snapshot
                                                       (key, value, value_json)
  monthly_revenue, top_products_last_month, inventory_turnover, product_month_sales,
  conversion_by_day, report_as_of                      the reports
  top_products('2011-11'), inventory_turnover_at(TIMESTAMPTZ '2011-12-01 00:00:00+00')
                                                       the reports for any month or as-of time

Money columns are DECIMAL(18,3) and print with their exact decimals; times are UTC. A dataset
not yet in the lake is an empty view. The shell keeps a history file; type .views (or \d) to
list the views with their columns, .schema VIEW (or \d VIEW) for one, .format csv|json|table,
.help, and .quit (or Ctrl-D). A statement ends with ';' and may span lines.

Example:
  shopease sql "select count(*) from transactions" --lake-dir ./data/lake
  shopease sql "select * from monthly_revenue" --format csv
  shopease sql --lake-dir ./data/lake`,
		flags: func(fs *flag.FlagSet, _ *env) {
			lf.register(fs)
			fs.StringVar(&format, "format", "table", "output format: table, csv or json")
			fs.StringVar(&history, "history", "", "history file of the interactive shell (default: ~/.shopease_sql_history)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 1 {
				return usagef("sql takes one query (quote it) or none for the shell")
			}
			if !slices.Contains(lakesql.Formats, format) {
				return usagef("--format %q: want one of %v", format, lakesql.Formats)
			}
			db, err := lf.open(ctx, e)
			if err != nil {
				return fmt.Errorf("sql: %w", err)
			}
			defer db.Close()
			if len(args) == 1 {
				res, err := db.Query(ctx, args[0])
				if err != nil {
					return fmt.Errorf("sql: %w", err)
				}
				return lakesql.Write(e.stdout, format, res)
			}
			if history == "" {
				if home, err := os.UserHomeDir(); err == nil {
					history = filepath.Join(home, ".shopease_sql_history")
				}
			}
			sh := &shell{db: db, format: format, history: history}
			fd := int(os.Stdin.Fd())
			if term.IsTerminal(fd) && e.stdout == os.Stdout {
				return sh.runTerminal(ctx, fd)
			}
			return sh.run(ctx, newLineReader(os.Stdin), e.stdout)
		},
	}
}
