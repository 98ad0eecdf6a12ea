package lakesql_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopease/shopease/lakesql"
)

// TestEmptyLake opens a lake with no dataset and no snapshot: every view exists with its columns
// and answers with no rows; only a report that needs a month fails, with ErrNoTransactions.
func TestEmptyLake(t *testing.T) {
	ctx := context.Background()
	db, err := lakesql.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	views, err := db.Views(ctx)
	if err != nil {
		t.Fatal(err)
	}
	columns := map[string]int{}
	for _, v := range views {
		columns[v.Name] = len(v.Columns)
		if v.Doc == "" {
			t.Errorf("%s has no description", v.Name)
		}
		if v.Kind != "view" {
			continue
		}
		res, err := db.Query(ctx, "SELECT count(*) FROM "+v.Name)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if n := res.Rows[0][0].(int64); n != 0 && v.Name != "report_as_of" {
			t.Errorf("%s has %d rows on an empty lake", v.Name, n)
		}
	}
	want := map[string]int{"transactions": 17, "activity": 13, "inventory": 14, "feedback": 11, "journeys": 22,
		"sales_table": 4, "monthly_revenue": 12, "top_products_last_month": 5, "inventory_turnover": 13,
		"conversion_by_day": 9, "purchase_journeys": 22, "top_products": 0, "inventory_turnover_at": 0}
	for name, n := range want {
		if got, ok := columns[name]; !ok || got != n {
			t.Errorf("view %s: %d columns (present %v), want %d", name, got, ok, n)
		}
	}
	if _, err := db.MonthlyRevenue(ctx, time.Time{}); !errors.Is(err, lakesql.ErrNoTransactions) {
		t.Errorf("monthly revenue of an empty lake: %v, want ErrNoTransactions", err)
	}
	rows, err := db.MonthlyRevenue(ctx, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(rows) != 0 {
		t.Errorf("monthly revenue as of a date on an empty lake: %v, %v", rows, err)
	}
}

// TestOpenMissingLake: a lake folder that does not exist is ErrNoLake.
func TestOpenMissingLake(t *testing.T) {
	_, err := lakesql.Open(context.Background(), t.TempDir()+"/nothing")
	if !errors.Is(err, lakesql.ErrNoLake) {
		t.Fatalf("got %v, want ErrNoLake", err)
	}
}

// TestWriteExact prints decimals with their exact digits (no float), NULLs, dates, lists and
// timestamps in all three formats.
func TestWriteExact(t *testing.T) {
	ctx := context.Background()
	db, err := lakesql.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Query(ctx, `SELECT 'a' AS name, CAST('123456789012345.678' AS DECIMAL(18,3)) AS amount,
		CAST('-0.005' AS DECIMAL(18,3)) AS small, NULL::VARCHAR AS missing, DATE '2011-11-30' AS day,
		TIMESTAMPTZ '2011-11-30 17:05:00.25+00' AS at, [1, 2] AS list, CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE) AS ratio
		UNION ALL SELECT 'bb', 0.1, 0, 'x', NULL, NULL, [], 1`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"table": `name               amount   small  missing  day         at                       list                  ratio
----  -------------------  ------  -------  ----------  -----------------------  ------  -------------------
a     123456789012345.678  -0.005  NULL     2011-11-30  2011-11-30 17:05:00.25Z  [1, 2]  0.30000000000000004
bb                  0.100   0.000  x        NULL        NULL                     []                        1
`,
		"csv": `name,amount,small,missing,day,at,list,ratio
a,123456789012345.678,-0.005,,2011-11-30,2011-11-30 17:05:00.25Z,"[1, 2]",0.30000000000000004
bb,0.100,0.000,x,,,[],1
`,
		"json": `[
  {"name": "a", "amount": 123456789012345.678, "small": -0.005, "missing": null, "day": "2011-11-30", "at": "2011-11-30 17:05:00.25Z", "list": [1,2], "ratio": 0.30000000000000004},
  {"name": "bb", "amount": 0.100, "small": 0.000, "missing": "x", "day": null, "at": null, "list": [], "ratio": 1}
]
`,
	}
	for _, f := range lakesql.Formats {
		var b bytes.Buffer
		if err := lakesql.Write(&b, f, res); err != nil {
			t.Fatal(err)
		}
		if b.String() != want[f] {
			t.Errorf("%s:\n%s\nwant\n%s", f, b.String(), want[f])
		}
	}
}
