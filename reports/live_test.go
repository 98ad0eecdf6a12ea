package reports_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/reports"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestLiveReportsEqualTruth replays a generated history's transactions and inventory into each
// Kafka, runs the transactions gateway, the inventory processor and the sales and revenue
// processors, and reads the live reports through views: every month's gross, refunds, returns,
// net, orders and line counts, every month's top 10, and every product month's sales and turnover
// inputs equal the generator's truth exactly.
func TestLiveReportsEqualTruth(t *testing.T) {
	for _, size := range []struct {
		name string
		cfg  generate.Config
	}{{"tiny", generate.Tiny()}, {"small", generate.Small()}} {
		t.Run(size.name, func(t *testing.T) {
			dir := t.TempDir()
			gcfg := size.cfg
			gcfg.Dir = dir
			truth, err := generate.Run(context.Background(), gcfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(truth.Months) < 2 {
				t.Fatalf("history covers %d months, want ≥ 2", len(truth.Months))
			}
			testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
				cfg, failed := startPipeline(t, k, "", dir, generate.DatasetTransactions, generate.DatasetInventory)
				d := waitLoaded(t, cfg, truth, failed)
				checkRevenue(t, d, truth)
				checkTop(t, d, truth)
				checkProductMonths(t, d, truth)
			})
		})
	}
}

// startPipeline replays the datasets of dir (under dir/<dataset>, or dir itself when a replay
// profile is given) into k and runs the processors the reports need until the test ends; failed
// returns the first processor error.
func startPipeline(t *testing.T, k testenv.Kafka, profile, dir string, datasets ...string) (cfg cluster.Config, failed func() error) {
	t.Helper()
	cfg = replayed(t, k, profile, dir, datasets...)
	stop, failed := startProcessors(t, cfg)
	t.Cleanup(stop)
	return cfg, failed
}

// replayed returns the configuration of a fresh namespace on k with the datasets of dir replayed
// into it (see startPipeline).
func replayed(t *testing.T, k testenv.Kafka, profile, dir string, datasets ...string) cluster.Config {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := cluster.Config{
		Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
		Pseudonyms: pseudonym.Demo(), Observer: &outcome.Counts{}, Logger: logger,
		// goka's memory store sorts every key on each write; Pebble as in production.
		Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
	}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	for _, ds := range datasets {
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, ds)}, cfg.Brokers, cfg.Namespace
		rc.Dataset = ds
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

// startProcessors runs the transactions gateway, the inventory processor and the sales and
// revenue processors; stop (idempotent) stops them and reports their errors, failed returns the
// first error so far.
func startProcessors(t *testing.T, cfg cluster.Config) (stop func(), failed func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runs := []func(context.Context, cluster.Config, ...goka.ProcessorOption) error{transactions.Run, inventory.Run, sales.Run}
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() {
			if err := run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	failed = func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			stopped := make(chan struct{})
			go func() { wg.Wait(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(60 * time.Second):
				t.Error("the processors did not stop within 60 s")
			}
			if err := failed(); err != nil {
				t.Errorf("processor: %v", err)
			}
		})
	}
	return stop, failed
}

// waitLoaded loads the tables until they hold every accepted transaction line and inventory
// record of the truth (the processors and the changelogs catch up asynchronously).
func waitLoaded(t *testing.T, cfg cluster.Config, truth *generate.Truth, failed func() error) *reports.Data {
	t.Helper()
	tx, inv := truth.Datasets[generate.DatasetTransactions], truth.Datasets[generate.DatasetInventory]
	deadline := time.Now().Add(3 * time.Minute)
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
			if lines == tx.Accepted && productLines == tx.Accepted && (inv == nil || (applied == inv.Accepted && dupes == inv.Duplicates)) {
				return d
			}
			if lines > tx.Accepted || productLines > tx.Accepted {
				t.Fatalf("the revenue table holds %d lines, the sales table %d, truth accepted %d", lines, productLines, tx.Accepted)
			}
		}
		if err := failed(); err != nil {
			t.Fatalf("processor failed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("tables hold %d and %d lines (want %d), inventory %d applied %d duplicates; last error %v",
				lines, productLines, tx.Accepted, applied, dupes, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func checkRevenue(t *testing.T, d *reports.Data, truth *generate.Truth) {
	t.Helper()
	rows := reports.MonthlyRevenue(d, truth.End)
	var got []generate.MonthTruth
	for _, r := range rows {
		got = append(got, generate.MonthTruth{Month: r.Month, Gross: r.Gross, Refunds: r.Refunds, Returns: r.Returns,
			Net: r.Net, Orders: r.Orders, PurchaseLines: r.PurchaseLines, RefundLines: r.RefundLines,
			ReturnLines: r.ReturnLines, PurchaseUnits: r.UnitsSold})
	}
	if !reflect.DeepEqual(got, truth.Months) {
		t.Errorf("monthly revenue\n got %+v\nwant %+v", got, truth.Months)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].Change == nil || *rows[i].Change != rows[i].Net-rows[i-1].Net {
			t.Errorf("%s: change %v, want %s", rows[i].Month, rows[i].Change, rows[i].Net-rows[i-1].Net)
		}
	}
	for _, r := range rows {
		t.Logf("%s gross %s refunds %s returns %s net %s orders %d", r.Month, r.Gross, r.Refunds, r.Returns, r.Net, r.Orders)
	}
}

func checkTop(t *testing.T, d *reports.Data, truth *generate.Truth) {
	t.Helper()
	for _, mt := range truth.TopProducts {
		top := reports.TopProductsOf(d, mt.Month)
		var got []generate.ProductUnits
		for _, r := range top.Rows {
			got = append(got, generate.ProductUnits{ProductID: r.ProductID, Units: r.Units})
		}
		if got == nil {
			got = []generate.ProductUnits{}
		}
		if !reflect.DeepEqual(got, mt.Products) {
			t.Errorf("top products of %s\n got %v\nwant %v", mt.Month, got, mt.Products)
		}
	}
	// The default as-of date is the newest event time seen; its report covers the month before.
	latest := d.Latest()
	if top := reports.TopProducts(d, time.Time{}); top.Month != reports.PreviousMonth(latest) {
		t.Errorf("default top month %s, latest event %s", top.Month, latest)
	}
}

func checkProductMonths(t *testing.T, d *reports.Data, truth *generate.Truth) {
	t.Helper()
	asOf := truth.End.Add(-time.Nanosecond)
	rows := map[string]reports.TurnoverRow{}
	for _, r := range reports.InventoryTurnover(d, asOf) {
		rows[r.Month+"|"+r.ProductID] = r
	}
	sold := map[string]sales.Totals{}
	for _, p := range d.Products {
		for _, m := range p.Months {
			sold[m.Month+"|"+p.ProductID] = m.Totals
		}
	}
	checked := 0
	for _, pm := range truth.ProductMonths {
		k := pm.Month + "|" + pm.ProductID
		r, ok := rows[k]
		if !ok {
			t.Errorf("%s: no turnover row", k)
			continue
		}
		s := sold[k]
		got := generate.ProductMonth{ProductID: r.ProductID, Month: r.Month, UnitsSold: r.UnitsSold,
			UnitsReturned: s.UnitsReturned, Gross: s.Gross, Revenue: s.Net(),
			ClosingDays: r.ClosingDays, ClosingUnitsSum: r.ClosingUnitsSum, ClosingValueSum: r.ClosingValueSum,
			AvgOnHand: r.AvgOnHand, AvgInventoryValue: r.AvgInventoryValue}
		if r.UnitCost != nil {
			got.UnitCost = *r.UnitCost
		}
		if r.COGS != nil {
			got.COGS = *r.COGS
		}
		if got != pm {
			t.Errorf("%s\n got %+v\nwant %+v", k, got, pm)
		}
		if pm.ClosingUnitsSum > 0 {
			want := float64(pm.UnitsSold) / pm.AvgOnHand
			if r.Turnover == nil || !near(*r.Turnover, want) {
				t.Errorf("%s: turnover %s, want %g", k, fmtOpt(r.Turnover), want)
			}
		}
		checked++
		delete(rows, k)
	}
	if checked == 0 {
		t.Fatal("no product month checked")
	}
	for k, r := range rows {
		if r.UnitsSold != 0 || r.ClosingDays != 0 {
			t.Errorf("%s: a row the truth lacks: %+v", k, r)
		}
	}
	var units int64
	var gross event.Money
	for _, pm := range truth.ProductMonths {
		units, gross = units+pm.UnitsSold, gross+pm.Gross
	}
	t.Logf("%d product months exact (%d units sold, gross %s)", checked, units, gross)
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, b)
}

func fmtOpt(f *float64) string {
	if f == nil {
		return "none"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}
