package transactions_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedHistoryMatchesTruth replays the transactions of a Tiny generated history into each
// Kafka and runs the gateway over them: replay's rejects per reason equal the truth's unparseable
// rows (unknown types among them, as bad_type: the raw codec cannot carry one); the gateway's
// accepted, duplicate and rejected-per-reason counts equal the truth's; and the clean lines add up
// to the truth's accepted lines per type and, per month, to its gross, refunds, returns, line
// counts, purchase units and orders.
func TestGeneratedHistoryMatchesTruth(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Datasets[generate.DatasetTransactions]
	for _, r := range []event.Reason{event.ReasonMissingUser, event.ReasonMissingProduct, event.ReasonBadQuantity, event.ReasonBadPrice} {
		if want.Rejected[r] == 0 {
			t.Fatalf("Tiny history has no %s line: %+v", r, want)
		}
	}
	if want.Duplicates == 0 || want.Accepted == 0 {
		t.Fatalf("Tiny history lacks duplicates or good lines: %+v", want)
	}
	t.Logf("truth: %d rows, %d sent, %d accepted, %d duplicates, rejected %v, unparseable %v",
		want.Rows, want.Sent, want.Accepted, want.Duplicates, want.Rejected, want.Unparseable)
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		counts := &outcome.Counts{}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Pseudonyms: pseudonym.Demo(), Observer: counts, Logger: logger,
			Storage: func(dir string) storage.Builder { return tables.NewBuilder(dir) },
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		rc := replay.DefaultConfig()
		rc.EndOfInput = true // as `shopease replay` does: the gateways forward the markers
		rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, generate.DatasetTransactions)}, cfg.Brokers, cfg.Namespace
		rc.Dataset = generate.DatasetTransactions
		rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
		sum, err := replay.Run(context.Background(), rc, logger)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		rs := sum.Datasets[generate.DatasetTransactions]
		if rs == nil || rs.Read != want.Rows || rs.Sent != want.Sent {
			t.Fatalf("replay read/sent %+v, truth has %d rows, %d sent", rs, want.Rows, want.Sent)
		}
		if fmt.Sprint(rs.Rejected) != fmt.Sprint(want.Unparseable) {
			t.Errorf("replay rejects %v, truth's unparseable rows %v", rs.Rejected, want.Unparseable)
		}

		startGateway(t, cfg)
		got := waitObserved(t, counts, rs.Sent)
		wantOutcomes := map[outcome.Outcome]int64{outcome.Accepted: want.Accepted, outcome.Duplicate: want.Duplicates}
		for r, n := range want.Rejected {
			wantOutcomes[outcome.Rejected(r)] = n
		}
		if !reflect.DeepEqual(got, wantOutcomes) {
			t.Errorf("gateway outcomes %v, truth %v", got, wantOutcomes)
		}

		// The replay ends with an end-of-input marker per raw partition, which the gateway passes on
		// to every clean partition (docs/formats.md): 4 × 4 records that are no line.
		const markers = 4 * 4
		clean := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.CleanTransactions)), int(want.Accepted)+markers)
		sales := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.Sales)), int(want.Accepted))
		if int64(len(sales)) != want.Accepted {
			t.Errorf("%d sales lines, truth accepted %d", len(sales), want.Accepted)
		}
		var lines []*event.TransactionLine
		seen := 0
		for _, m := range clean {
			if slices.ContainsFunc(m.Headers, func(h *sarama.RecordHeader) bool { return string(h.Key) == event.HeaderControl }) {
				seen++
				continue
			}
			l, err := codecs.DecodeTransactionLine(m.Value)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		if seen != markers {
			t.Errorf("%d end-of-input markers on the clean topic, want %d", seen, markers)
		}
		checkAgainstTruth(t, lines, truth)
	})
}

// checkAgainstTruth sums clean lines the way the truth defines its months (docs/formats.md).
func checkAgainstTruth(t *testing.T, lines []*event.TransactionLine, truth *generate.Truth) {
	t.Helper()
	byType := map[string]int64{}
	months := map[string]*generate.MonthTruth{}
	orders := map[string]map[string]bool{}
	for _, l := range lines {
		byType[string(l.Type)]++
		key := l.Time.UTC().Format("2006-01")
		m := months[key]
		if m == nil {
			m = &generate.MonthTruth{Month: key}
			months[key], orders[key] = m, map[string]bool{}
		}
		amount, err := l.Amount()
		if err != nil {
			t.Fatal(err)
		}
		switch l.Type {
		case event.Purchase:
			m.Gross += amount
			m.PurchaseLines++
			m.PurchaseUnits += l.Quantity
			orders[key][l.OrderID] = true
		case event.Refund:
			m.Refunds += amount
			m.RefundLines++
		case event.Return:
			m.Returns += amount
			m.ReturnLines++
		}
		m.Net += amount
	}
	if !reflect.DeepEqual(byType, truth.Datasets[generate.DatasetTransactions].AcceptedByType) {
		t.Errorf("clean lines per type %v, truth %v", byType, truth.Datasets[generate.DatasetTransactions].AcceptedByType)
	}
	for _, tm := range truth.Months {
		got := generate.MonthTruth{Month: tm.Month}
		if m := months[tm.Month]; m != nil {
			got = *m
			got.Orders = int64(len(orders[tm.Month]))
		}
		if got != tm {
			t.Errorf("month %s from clean lines %+v, truth %+v", tm.Month, got, tm)
		}
		delete(months, tm.Month)
	}
	if len(months) != 0 {
		t.Errorf("clean lines in months the truth does not have: %v", months)
	}
}
