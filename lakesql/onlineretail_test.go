package lakesql_test

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/lakesql"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

// The Online Retail files: the subset in replay's testdata and the full data set beside the
// repository (../shared/datasets/online-retail, as package reports' tests read it).
var (
	onlineRetailSubset = filepath.Join("..", "replay", "testdata", "online-retail")
	onlineRetailFull   = filepath.Join("..", "..", "shared", "datasets", "online-retail", "by-day")
)

// TestOnlineRetailSubsetSQL: the SQL reports over a lake of the Online Retail subset equal an
// independent computation over its raw files, on both Kafkas.
func TestOnlineRetailSubsetSQL(t *testing.T) {
	want := independentRetail(t, onlineRetailSubset)
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		compareRetailSQL(t, k, onlineRetailSubset, want, "2011-07")
	})
}

// TestOnlineRetailFullSQL is the acceptance check over the full data set (real Kafka under make
// test): the SQL monthly net revenue of every month and the top 10 of 2011-11 over the lake equal
// the independent computation over the raw daily files, to the thousandth.
func TestOnlineRetailFullSQL(t *testing.T) {
	if _, err := os.Stat(onlineRetailFull); err != nil {
		t.Fatalf("the full Online Retail data set is needed at %s (see docs/formats.md): %v", onlineRetailFull, err)
	}
	want := independentRetail(t, onlineRetailFull)
	var k testenv.Kafka
	if os.Getenv(testenv.EnvKafka) != "" {
		k = testenv.RealKafka(t)
	} else {
		t.Logf("%s is not set: running the full data set on the embedded broker", testenv.EnvKafka)
		k = testenv.EmbeddedKafka(t)
	}
	compareRetailSQL(t, k, onlineRetailFull, want, "2011-11")
}

// compareRetailSQL replays dir with the online-retail profile, runs the transactions gateway,
// archives the clean lines and compares the SQL reports with want.
func compareRetailSQL(t *testing.T, k testenv.Kafka, dir string, want *retail, topMonth string) {
	began := time.Now()
	cfg := replayed(t, k, dir, replay.ProfileOnlineRetail, []string{lake.Transactions})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- transactions.Run(ctx, cfg) }()
	lakeDir := t.TempDir()
	archive(t, cfg, lakeDir, map[string]int64{lake.Transactions: want.accepted})
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("transactions gateway: %v", err)
	}
	t.Logf("%d accepted lines replayed, cleaned and archived in %s", want.accepted, time.Since(began).Round(time.Second))

	db, err := lakesql.Open(context.Background(), lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.MonthlyRevenue(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	months := slices.Sorted(func(yield func(string) bool) {
		for m := range want.net {
			if !yield(m) {
				return
			}
		}
	})
	if len(rows) != len(months) {
		t.Errorf("%d SQL months, %d independent months %v", len(rows), len(months), months)
	}
	for _, r := range rows {
		w := want.net[r.Month]
		got, _ := new(big.Rat).SetString(r.Net.String())
		if w == nil || got.Cmp(w) != 0 {
			t.Errorf("%s: SQL net %s, independent %s", r.Month, r.Net, ratString(w))
		}
		t.Logf("%s net %s (independent %s) orders %d", r.Month, r.Net, ratString(w), r.Orders)
	}

	next, err := time.Parse("2006-01", topMonth)
	if err != nil {
		t.Fatal(err)
	}
	top, err := db.TopProducts(context.Background(), next.AddDate(0, 1, 5))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range top.Rows {
		got = append(got, fmt.Sprintf("%s:%d", r.ProductID, r.Units))
	}
	if wantTop := topTen(want.units[topMonth]); top.Month != topMonth || !slices.Equal(got, wantTop) {
		t.Errorf("top products of %s\n got %v\nwant %v", top.Month, got, wantTop)
	}
	t.Logf("top 10 of %s: %v", topMonth, got)
}

// retail is the independent answer: net per month as exact rationals, purchase units per month
// and product, and the accepted line count.
type retail struct {
	net      map[string]*big.Rat
	units    map[string]map[string]int64
	accepted int64
}

// topTen ranks products by units, ties by product id, as "id:units".
func topTen(units map[string]int64) []string {
	var ids []string
	for id, n := range units {
		if n > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(units[b], units[a]), cmp.Compare(a, b))
	})
	var out []string
	for _, id := range ids[:min(10, len(ids))] {
		out = append(out, fmt.Sprintf("%s:%d", id, units[id]))
	}
	return out
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "none"
	}
	return r.FloatString(3)
}

// independentRetail computes the answers from the raw daily files with the rules as stated
// (issues 4–6), sharing no code with replay, the gateway, the lake or the views:
//
//   - InvoiceNo → order, StockCode → product, CustomerID → user; an invoice starting with C is a
//     return with its Quantity negated; the line id is the invoice and the line's ordinal within
//     it in its file;
//   - a row whose Quantity, UnitPrice or InvoiceDate does not parse is dropped (replay);
//   - a row with an empty order, user or product, a time outside 2000..2099, quantity ≤ 0 or
//     price ≤ 0 is rejected; a valid row whose line id an earlier valid row had (files in name
//     order, rows in file order) is a duplicate;
//   - amount = quantity × unit price, exact, negative for returns; month = the UTC month of
//     InvoiceDate; top products count the quantity of purchase lines.
//
// Package reports' Online Retail test computes the same with its own copy: test files cannot be
// shared between packages.
func independentRetail(t *testing.T, dir string) *retail {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.csv.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.csv.gz in %s (%v)", dir, err)
	}
	slices.Sort(files)
	out := &retail{net: map[string]*big.Rat{}, units: map[string]map[string]int64{}}
	claimed := map[string]bool{}
	for _, path := range files {
		for _, row := range readGzipCSV(t, path) {
			out.add(row, claimed)
		}
	}
	return out
}

// add applies one raw row (ordinal: its line ordinal within its invoice and file).
func (out *retail) add(row retailRow, claimed map[string]bool) {
	qty, err1 := strconv.ParseInt(row.quantity, 10, 64)
	price, ok := new(big.Rat).SetString(row.price)
	when, err3 := time.Parse("2006-01-02 15:04:05", row.date)
	if err1 != nil || !ok || err3 != nil {
		return
	}
	ret := strings.HasPrefix(row.invoice, "C")
	if ret {
		qty = -qty
	}
	if row.invoice == "" || row.customer == "" || row.code == "" || when.Year() < 2000 || when.Year() >= 2100 ||
		qty <= 0 || price.Sign() <= 0 || claimed[row.lineID] {
		return
	}
	claimed[row.lineID] = true
	out.accepted++
	month := when.Format("2006-01")
	amount := new(big.Rat).Mul(price, new(big.Rat).SetInt64(qty))
	if ret {
		amount.Neg(amount)
	} else {
		if out.units[month] == nil {
			out.units[month] = map[string]int64{}
		}
		out.units[month][row.code] += qty
	}
	if out.net[month] == nil {
		out.net[month] = new(big.Rat)
	}
	out.net[month].Add(out.net[month], amount)
}

// retailRow is the fields of one raw Online Retail row the rules read.
type retailRow struct {
	invoice, code, quantity, date, price, customer, lineID string
}

func readGzipCSV(t *testing.T, path string) []retailRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := csv.NewReader(zr)
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	ordinal := map[string]int{}
	var rows []retailRow
	for _, rec := range recs[1:] {
		ordinal[rec[0]]++
		rows = append(rows, retailRow{invoice: rec[0], code: rec[1], quantity: rec[3], date: rec[4], price: rec[5],
			customer: rec[6], lineID: rec[0] + "-" + strconv.Itoa(ordinal[rec[0]])})
	}
	return rows
}
