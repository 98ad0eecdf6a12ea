package lake

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/journeys"
)

// TestJourneysReadByDuckDB writes two journeys — one with a session, one without activity — and
// reads them back with DuckDB: lists as VARCHAR[], NULL session start and seconds to purchase for
// the journey without activity, exact DECIMAL amounts.
func TestJourneysReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	ds, _ := FindDataset(Journeys)
	buy := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	secs := int64(95)
	js := []*journeys.Journey{
		{UserID: "ps1:u1", OrderID: "o1", PurchaseTime: buy, SessionStart: buy.Add(-5 * time.Minute), SessionSeconds: 300,
			Events: 6, PageViews: 2, ProductViews: 3, CartAdds: 1, Viewed: []string{"P1", "P2"}, Bought: []string{"P2"},
			ViewedThenBought: 1, SecondsToPurchase: &secs, EntryReferrer: "search", Lines: 1, Units: 2, Amount: event.MustMoney("9.905")},
		{UserID: "ps1:u2", OrderID: "o2", PurchaseTime: buy.Add(time.Hour), Bought: []string{"P3", "P4"}, Lines: 2, Units: 2,
			Amount: event.MustMoney("-0.5")},
	}
	w := newPartitionWriter(ds, dir, 0, testOptions(10), nil)
	for i, j := range js {
		b, err := journeys.JourneyCodec{}.Encode(j)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.add(record{offset: int64(i), value: b, origin: "o/0/1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the time zone setting below is per connection
	if _, err := db.Exec("set TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(fmt.Sprintf(`select order_id, date::varchar, viewed::varchar, bought::varchar,
		coalesce(session_start::varchar, 'NULL'), coalesce(seconds_to_purchase::varchar, 'NULL'), amount::varchar
		from read_parquet('%s', hive_partitioning = true) order by order_id`,
		filepath.Join(dir, "events", Journeys, "*", "*.parquet")))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var o, d, v, b, s, sec, a string
		if err := rows.Scan(&o, &d, &v, &b, &s, &sec, &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s %s", o, d, v, b, s, sec, a))
	}
	want := []string{
		"o1 2024-03-01 [P1, P2] [P2] 2024-03-01 09:55:00+00 95 9.905",
		"o2 2024-03-01 [] [P3, P4] NULL NULL -0.500",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("duckdb rows\n%q\nwant\n%q", got, want)
	}
}
