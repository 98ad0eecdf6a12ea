package inventory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedHistoryMatchesTruth replays the inventory files of generated histories into each
// Kafka and runs both groups: the gateway's outcomes per reason equal the truth's (duplicates are
// accepted by the stateless gateway and recognized by the product table), and per product per
// month the closing days, units and value equal the truth's exactly. Tiny spans a leap-day month
// end; Small spans two weeks across a month end with 300 products.
func TestGeneratedHistoryMatchesTruth(t *testing.T) {
	for _, preset := range []struct {
		name string
		cfg  generate.Config
	}{{"tiny", generate.Tiny()}, {"small", generate.Small()}} {
		t.Run(preset.name, func(t *testing.T) {
			dir := t.TempDir()
			gcfg := preset.cfg
			gcfg.Dir = dir
			truth, err := generate.Run(context.Background(), gcfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := truth.Datasets[generate.DatasetInventory]
			if want.Accepted == 0 || want.Duplicates == 0 || want.Rejected[event.ReasonBadQuantity] == 0 {
				t.Fatalf("history lacks the dirt this test needs: %+v", want)
			}
			testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
				checkGenerated(t, k, dir, truth)
			})
		})
	}
}

func checkGenerated(t *testing.T, k testenv.Kafka, dir string, truth *generate.Truth) {
	want := truth.Datasets[generate.DatasetInventory]
	obs := &outcome.Counts{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(), Observer: obs, Logger: logger}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, generate.DatasetInventory)}, cfg.Brokers, cfg.Namespace
	rc.Dataset = generate.DatasetInventory
	rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
	sum, err := replay.Run(context.Background(), rc, logger)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if rs := sum.Datasets[generate.DatasetInventory]; rs == nil || rs.Read != want.Rows || rs.Sent != want.Sent {
		t.Fatalf("replay %+v, truth has %d rows, %d to send", rs, want.Rows, want.Sent)
	}

	wantGate := map[outcome.Outcome]int64{outcome.Accepted: want.Accepted + want.Duplicates}
	for r, n := range want.Rejected {
		wantGate[outcome.Rejected(r)] = n
	}
	wantProducts := map[outcome.Outcome]int64{outcome.Accepted: want.Accepted, outcome.Duplicate: want.Duplicates}
	stop := start(t, cfg)
	defer stop()
	waitOutcomes(t, obs, inventory.Processor, wantGate)
	waitOutcomes(t, obs, inventory.ProductsProcessor, wantProducts)

	var skus []string
	for _, pm := range truth.ProductMonths {
		skus = append(skus, pm.ProductID)
	}
	// The outcomes are observed before the table's changelog is written; read until the view has
	// every applied record.
	var products map[string]*product.Product
	for deadline := time.Now().Add(60 * time.Second); ; {
		products = readProducts(t, cfg, skus)
		var applied, dupes int64
		for _, p := range products {
			if p != nil {
				applied, dupes = applied+p.Applied, dupes+p.Duplicates
			}
		}
		if applied == want.Accepted && dupes == want.Duplicates {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the view shows %d applied and %d duplicates, want %d and %d", applied, dupes, want.Accepted, want.Duplicates)
		}
		time.Sleep(200 * time.Millisecond)
	}
	asOf := truth.End.Add(-time.Nanosecond)
	checked := 0
	for _, pm := range truth.ProductMonths {
		p := products[pm.ProductID]
		if p == nil {
			t.Errorf("%s: not in the product table", pm.ProductID)
			continue
		}
		if p.Cost == nil || *p.Cost != pm.UnitCost {
			t.Errorf("%s: cost %v, truth %s", pm.ProductID, p.Cost, pm.UnitCost)
		}
		got := p.ClosingOf(pm.Month, asOf)
		wantMonth := product.MonthClosing{Month: pm.Month, Days: pm.ClosingDays, UnitsSum: pm.ClosingUnitsSum, ValueSum: pm.ClosingValueSum}
		if !reflect.DeepEqual(got, wantMonth) {
			t.Errorf("%s %s: closing %+v, truth %+v", pm.ProductID, pm.Month, got, wantMonth)
		}
		checked++
	}
	if checked == 0 || len(truth.Months) < 2 {
		t.Fatalf("checked %d product months over %d months", checked, len(truth.Months))
	}
	t.Logf("%d product months exact; gateway %v; products %v", checked, obs.Of(inventory.Processor), obs.Of(inventory.ProductsProcessor))
	checkRedelivery(t, cfg, obs, skus, products)
}

// readProducts reads the products of skus through one fresh view.
func readProducts(t *testing.T, cfg cluster.Config, skus []string) map[string]*product.Product {
	t.Helper()
	v, err := inventory.NewView(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !v.Recovered() {
		select {
		case err := <-done:
			t.Fatalf("view: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	out := map[string]*product.Product{}
	for _, sku := range skus {
		if _, ok := out[sku]; ok {
			continue
		}
		p, err := inventory.Lookup(v, sku)
		if err != nil {
			t.Fatal(fmt.Errorf("lookup %s: %w", sku, err))
		}
		out[sku] = p
	}
	return out
}
