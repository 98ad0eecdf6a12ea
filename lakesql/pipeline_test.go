package lakesql_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/lakesql"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/reports"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestThreeWayGenerated is the three-way agreement on generated histories, on each Kafka: the
// history is replayed, the processor group runs, the lake writer archives the clean topics and
// the compactor snapshots the tables; then the SQL reports over the lake equal the live reports
// over the tables (field for field, ratios bit for bit) and both equal the generator's truth to
// the thousandth: every month's revenue, every month's top 10, every product month's sales and
// turnover inputs. The lake's datasets hold exactly the accepted records, and the snapshot views
// hold every key of their tables.
func TestThreeWayGenerated(t *testing.T) {
	for _, size := range []struct {
		name     string
		cfg      generate.Config
		datasets []string
	}{
		{"tiny", generate.Tiny(), []string{generate.DatasetTransactions, generate.DatasetInventory, generate.DatasetActivity, generate.DatasetFeedback}},
		// Small's clickstream is most of its events and no report reads it.
		{"small", generate.Small(), []string{generate.DatasetTransactions, generate.DatasetInventory}},
	} {
		t.Run(size.name, func(t *testing.T) {
			dir := t.TempDir()
			gcfg := size.cfg
			gcfg.Dir = dir
			truth, err := generate.Run(context.Background(), gcfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
				threeWay(t, k, dir, truth, size.datasets)
			})
		})
	}
}

func threeWay(t *testing.T, k testenv.Kafka, dir string, truth *generate.Truth, datasets []string) {
	ctx := context.Background()
	cfg := replayed(t, k, dir, "", datasets)
	stop := startGroup(t, cfg)
	live := waitLive(t, cfg, truth)

	lakeDir := t.TempDir()
	want := map[string]int64{}
	for _, ds := range datasets {
		want[ds] = truth.Datasets[ds].Accepted
	}
	// The inventory gateway passes repeated event ids on (the product table drops them).
	want[lake.Inventory] += truth.Datasets[lake.Inventory].Duplicates
	archive(t, cfg, lakeDir, want)
	stop()
	snapshot(t, cfg, lakeDir)

	db, err := lakesql.Open(ctx, lakeDir, lakesql.WithNamespace(cfg.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ds, n := range want {
		if got := count(t, db, "SELECT count(*) FROM "+ds); got != n {
			t.Errorf("view %s has %d rows, truth accepted %d", ds, got, n)
		}
	}
	if got := count(t, db, "SELECT count(*) FROM inventory_records"); got != truth.Datasets[lake.Inventory].Accepted {
		t.Errorf("inventory_records has %d rows, truth accepted %d", got, truth.Datasets[lake.Inventory].Accepted)
	}
	for view, n := range map[string]int{"sales_table": len(live.Products), "revenue_table": len(live.Orders), "inventory_table": len(live.Inventory)} {
		if got := count(t, db, "SELECT count(*) FROM "+view); got != int64(n) || n == 0 {
			t.Errorf("view %s has %d rows, the live table %d", view, got, n)
		}
	}

	if _, ok := want[lake.Activity]; ok {
		// conversion_by_day: every accepted activity event on some day; an order's lines share
		// their time, so daily distinct orders add up to the months' distinct orders.
		var orders int64
		for _, m := range truth.Months {
			orders += m.Orders
		}
		if got := count(t, db, "SELECT sum(events) FROM conversion_by_day"); got != want[lake.Activity] {
			t.Errorf("conversion_by_day counts %d events, truth accepted %d", got, want[lake.Activity])
		}
		if got := count(t, db, "SELECT sum(orders) FROM conversion_by_day"); got != orders {
			t.Errorf("conversion_by_day counts %d orders, truth %d", got, orders)
		}
	}
	// SQL == live, at the default as-of time and at the end of the history.
	for _, asOf := range []time.Time{{}, truth.End.Add(-time.Nanosecond)} {
		compareReports(t, db, live, asOf)
	}
	// SQL == truth (and so live == truth, which package reports also tests).
	checkTruth(t, db, truth)
}

// count runs a query that returns one integer.
func count(t *testing.T, db *lakesql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func checkTruth(t *testing.T, db *lakesql.DB, truth *generate.Truth) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.MonthlyRevenue(ctx, truth.End)
	if err != nil {
		t.Fatal(err)
	}
	var months []generate.MonthTruth
	for _, r := range rows {
		months = append(months, generate.MonthTruth{Month: r.Month, Gross: r.Gross, Refunds: r.Refunds, Returns: r.Returns,
			Net: r.Net, Orders: r.Orders, PurchaseLines: r.PurchaseLines, RefundLines: r.RefundLines,
			ReturnLines: r.ReturnLines, PurchaseUnits: r.UnitsSold})
		t.Logf("%s gross %s refunds %s returns %s net %s orders %d", r.Month, r.Gross, r.Refunds, r.Returns, r.Net, r.Orders)
	}
	if !reflect.DeepEqual(months, truth.Months) {
		t.Errorf("monthly revenue\n got %+v\nwant %+v", months, truth.Months)
	}
	for _, mt := range truth.TopProducts {
		top, err := db.TopProductsOf(ctx, mt.Month)
		if err != nil {
			t.Fatal(err)
		}
		got := []generate.ProductUnits{}
		for _, r := range top.Rows {
			got = append(got, generate.ProductUnits{ProductID: r.ProductID, Units: r.Units})
		}
		if !reflect.DeepEqual(got, mt.Products) {
			t.Errorf("top products of %s\n got %v\nwant %v", mt.Month, got, mt.Products)
		}
	}
	checkProductMonths(t, db, truth)
}

// checkProductMonths compares every product month of the truth with the turnover report and
// view product_month_sales.
func checkProductMonths(t *testing.T, db *lakesql.DB, truth *generate.Truth) {
	t.Helper()
	ctx := context.Background()
	turn, err := db.InventoryTurnover(ctx, truth.End.Add(-time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]reports.TurnoverRow{}
	for _, r := range turn {
		rows[r.Month+"|"+r.ProductID] = r
	}
	res, err := db.Query(ctx, "SELECT month || '|' || product_id, units_returned, gross, net FROM product_month_sales")
	if err != nil {
		t.Fatal(err)
	}
	type sold struct {
		returned   int64
		gross, net event.Money
	}
	sales := map[string]sold{}
	for _, r := range res.Rows {
		gross, err1 := lakesql.Money(r[2].(duckdb.Decimal))
		net, err2 := lakesql.Money(r[3].(duckdb.Decimal))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		sales[r[0].(string)] = sold{returned: r[1].(int64), gross: gross, net: net}
	}
	checked := 0
	for _, pm := range truth.ProductMonths {
		key := pm.Month + "|" + pm.ProductID
		r, ok := rows[key]
		if !ok {
			t.Errorf("%s: no turnover row", key)
			continue
		}
		s := sales[key]
		got := generate.ProductMonth{ProductID: r.ProductID, Month: r.Month, UnitsSold: r.UnitsSold, UnitsReturned: s.returned,
			ClosingDays: r.ClosingDays, ClosingUnitsSum: r.ClosingUnitsSum, ClosingValueSum: r.ClosingValueSum,
			AvgOnHand: r.AvgOnHand, AvgInventoryValue: r.AvgInventoryValue, Gross: pm.Gross, Revenue: pm.Revenue}
		if s.gross != pm.Gross || s.net != pm.Revenue {
			t.Errorf("%s: gross %s net %s, truth %s %s", key, s.gross, s.net, pm.Gross, pm.Revenue)
		}
		if r.UnitCost != nil {
			got.UnitCost = *r.UnitCost
		}
		if r.COGS != nil {
			got.COGS = *r.COGS
		}
		if got != pm {
			t.Errorf("%s\n got %+v\nwant %+v", key, got, pm)
		}
		checked++
		delete(rows, key)
	}
	if checked == 0 {
		t.Fatal("no product month checked")
	}
	for key, r := range rows {
		if r.UnitsSold != 0 || r.ClosingDays != 0 {
			t.Errorf("%s: a row the truth lacks: %+v", key, r)
		}
	}
	t.Logf("%d product months exact", checked)
}

// replayed returns the configuration of a fresh namespace on k with the datasets of dir replayed
// into it (dir/<dataset>; with a replay profile, dir itself holds that profile's files).
func replayed(t *testing.T, k testenv.Kafka, dir, profile string, datasets []string) cluster.Config {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := cluster.Config{
		Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
		Pseudonyms: pseudonym.Demo(), Logger: logger,
		// goka's memory store sorts every key on each write; Pebble as in production.
		Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
	}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	for _, ds := range datasets {
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace, rc.Dataset = []string{filepath.Join(dir, ds)}, cfg.Brokers, cfg.Namespace, ds
		if profile != "" {
			rc.Paths[0], rc.Profile = dir, profile
		}
		rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
		if _, err := replay.Run(context.Background(), rc, logger); err != nil {
			t.Fatalf("replay %s: %v", ds, err)
		}
	}
	return cfg
}

// startGroup runs the processor group until stop (idempotent) or the end of the test.
func startGroup(t *testing.T, cfg cluster.Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- processors.Run(ctx, cfg) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processors: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitLive loads the live reports' tables until the revenue and the sales table each hold every
// accepted transaction line and the product table every inventory record of the truth.
func waitLive(t *testing.T, cfg cluster.Config, truth *generate.Truth) *reports.Data {
	t.Helper()
	tx, inv := truth.Datasets[generate.DatasetTransactions], truth.Datasets[generate.DatasetInventory]
	deadline := time.Now().Add(4 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		d, err := reports.Load(ctx, cfg)
		cancel()
		var lines, productLines, applied, dupes int64
		if err == nil {
			for _, o := range d.Orders {
				lines += o.PurchaseLines + o.RefundLines + o.ReturnLines
			}
			for _, p := range d.Products {
				for _, m := range p.Months {
					productLines += m.PurchaseLines + m.RefundLines + m.ReturnLines
				}
			}
			for _, p := range d.Inventory {
				applied, dupes = applied+p.Applied, dupes+p.Duplicates
			}
			if lines == tx.Accepted && productLines == tx.Accepted && applied == inv.Accepted && dupes == inv.Duplicates {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("revenue table holds %d lines, sales table %d (want %d), inventory %d applied %d duplicates (want %d, %d); last error %v",
				lines, productLines, tx.Accepted, applied, dupes, inv.Accepted, inv.Duplicates, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// archive runs the lake writer once until the lake holds want rows per dataset (a clean topic
// may still be filling when the tables are complete: the writer is run again, and resumes).
func archive(t *testing.T, cfg cluster.Config, lakeDir string, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	var names []string
	for ds := range want {
		names = append(names, ds)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		sum, err := lake.Run(context.Background(), lake.Config{Brokers: cfg.Brokers, Namespace: cfg.Namespace,
			LakeDir: lakeDir, Once: true, Datasets: names, Logger: cfg.Logger})
		if err != nil {
			t.Fatal(err)
		}
		for ds, st := range sum {
			got[ds] += st.Rows
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lake holds %v rows, want %v", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// snapshot snapshots the reports' tables into the lake.
func snapshot(t *testing.T, cfg cluster.Config, lakeDir string) {
	t.Helper()
	codecs := map[string]goka.Codec{}
	var names []string
	for _, g := range []goka.Group{topology.SalesGroup, topology.RevenueGroup, topology.InventoryGroup} {
		tb, ok := processors.FindTable(cfg.Namespace, string(g))
		if !ok {
			t.Fatalf("no table %s", g)
		}
		name := string(cfg.Namespace.Table(g))
		names = append(names, name)
		codecs[name] = tb.Codec
	}
	if _, err := compaction.Compact(context.Background(), compaction.Config{Brokers: cfg.Brokers, LakeDir: lakeDir,
		Tables: names, Codecs: codecs, Logger: cfg.Logger}); err != nil {
		t.Fatal(err)
	}
}
