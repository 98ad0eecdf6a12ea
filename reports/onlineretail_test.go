package reports_test

import (
	"cmp"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/reports"
	"github.com/shopease/shopease/testenv"
)

// The Online Retail files: a subset kept in replay's testdata (always run) and the full data set
// beside the repository (run when present).
var (
	onlineRetailSubset = filepath.Join("..", "replay", "testdata", "online-retail")
	onlineRetailFull   = filepath.Join("..", "..", "shared", "datasets", "online-retail", "by-day")
)

// TestOnlineRetailSubsetReports compares the live reports over the subset the repository carries
// with an independent computation over its raw files, on both Kafkas.
func TestOnlineRetailSubsetReports(t *testing.T) {
	want := independentOnlineRetail(t, onlineRetailSubset)
	// Pinned as well, so that the two sides cannot drift together unnoticed.
	pinned := map[string]string{"2010-12": "91826.690", "2011-07": "16932.341"}
	if len(want.net) != len(pinned) {
		t.Errorf("independent months %d, pinned %d", len(want.net), len(pinned))
	}
	for m, n := range pinned {
		if got := ratString(want.net[m]); got != n {
			t.Errorf("independent net of %s = %s, pinned %s", m, got, n)
		}
	}
	if got := topTen(want.units["2011-07"]); len(got) != 10 || got[0] != "84212:960" || got[9] != "85099B:140" {
		t.Errorf("independent top 10 of 2011-07: %v", got)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		compareOnlineRetail(t, k, onlineRetailSubset, want, "2011-07")
	})
}

// TestOnlineRetailFullReports is the acceptance check over the full data set: monthly net
// revenue of every month and the top 10 of 2011-11.
func TestOnlineRetailFullReports(t *testing.T) {
	if _, err := os.Stat(onlineRetailFull); errors.Is(err, os.ErrNotExist) {
		t.Skipf("the full Online Retail data set is not at %s (the subset test covers the same code)", onlineRetailFull)
	}
	if testing.Short() {
		t.Skip("-short: the full Online Retail data set takes about a minute per broker")
	}
	want := independentOnlineRetail(t, onlineRetailFull)
	k := testenv.Kafka(nil)
	if os.Getenv(testenv.EnvKafka) != "" {
		k = testenv.RealKafka(t)
	} else {
		t.Logf("%s is not set: running the full data set on the embedded broker", testenv.EnvKafka)
		k = testenv.EmbeddedKafka(t)
	}
	compareOnlineRetail(t, k, onlineRetailFull, want, "2011-11")
}

// retail is the independent answer: net per month as exact rationals, purchase units per month
// and product, and the accepted line count.
type retail struct {
	net      map[string]*big.Rat
	units    map[string]map[string]int64
	accepted int64
}

func compareOnlineRetail(t *testing.T, k testenv.Kafka, dir string, want *retail, topMonth string) {
	t.Helper()
	cfg, failed := startPipeline(t, k, replay.ProfileOnlineRetail, dir, generate.DatasetTransactions)
	truth := &generate.Truth{Datasets: map[string]*generate.DatasetTruth{
		generate.DatasetTransactions: {Accepted: want.accepted},
	}}
	d := waitLoaded(t, cfg, truth, failed)

	rows := reports.MonthlyRevenue(d, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	var months []string
	for m := range want.net {
		months = append(months, m)
	}
	slices.Sort(months)
	if len(rows) != len(months) {
		t.Errorf("%d report months, %d independent months %v", len(rows), len(months), months)
	}
	for i, r := range rows {
		w, ok := want.net[r.Month]
		got, _ := new(big.Rat).SetString(r.Net.String())
		if !ok || got.Cmp(w) != 0 {
			t.Errorf("%s: net %s, independent %v", r.Month, r.Net, ratString(w))
		}
		change := ""
		if r.Change != nil {
			change = r.Change.String()
		}
		t.Logf("%s net %s (independent %s) orders %d change %s", r.Month, r.Net, ratString(w), r.Orders, change)
		if i > 0 && (r.Change == nil || *r.Change != r.Net-rows[i-1].Net) {
			t.Errorf("%s: change %v", r.Month, r.Change)
		}
	}

	wantTop := topTen(want.units[topMonth])
	// The last complete month before an as-of date in the month after topMonth is topMonth.
	next, err := time.Parse("2006-01", topMonth)
	if err != nil {
		t.Fatal(err)
	}
	top := reports.TopProducts(d, next.AddDate(0, 1, 5))
	var got []string
	for _, r := range top.Rows {
		got = append(got, fmt.Sprintf("%s:%d", r.ProductID, r.Units))
	}
	if top.Month != topMonth || !slices.Equal(got, wantTop) {
		t.Errorf("top products of %s\n got %v\nwant %v", top.Month, got, wantTop)
	}
	t.Logf("top 10 of %s: %v", topMonth, got)
}

// topTen ranks products by units, ties by product id, as "id:units".
func topTen(units map[string]int64) []string {
	type pu struct {
		id string
		n  int64
	}
	var all []pu
	for id, n := range units {
		if n > 0 {
			all = append(all, pu{id, n})
		}
	}
	slices.SortFunc(all, func(a, b pu) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var out []string
	for _, p := range all[:min(10, len(all))] {
		out = append(out, fmt.Sprintf("%s:%d", p.id, p.n))
	}
	return out
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "none"
	}
	return r.FloatString(3)
}

// independentOnlineRetail computes the answers from the raw daily files, sharing no code with
// replay, the gateway or the reports: the rules as stated (issues 4–6) —
//
//   - InvoiceNo → order, StockCode → product, CustomerID → user (a float "17850.0" is "17850");
//     an invoice starting with C is a return with its Quantity negated; the line id is the
//     invoice and the line's ordinal within it in its file;
//   - a row whose Quantity, UnitPrice or InvoiceDate does not parse is dropped (replay);
//   - a row failing any rule (empty order, user or product, time outside 2000..2099, quantity ≤ 0,
//     price ≤ 0) is rejected; a valid row whose line id an earlier valid row had (files in name
//     order, rows in file order) is a duplicate;
//   - amount = quantity × unit price, exact (big.Rat), negative for returns; month = the UTC month
//     of InvoiceDate; top products count the quantity of purchase lines.
func independentOnlineRetail(t *testing.T, dir string) *retail {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.csv.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.csv.gz in %s (%v)", dir, err)
	}
	slices.Sort(files)
	out := &retail{net: map[string]*big.Rat{}, units: map[string]map[string]int64{}}
	claimed := map[string]bool{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(zr)
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		ordinal := map[string]int{}
		for {
			row, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			invoice, code, qtyText, date, priceText, customer := row[0], row[1], row[3], row[4], row[5], row[6]
			ordinal[invoice]++
			lineID := invoice + "-" + strconv.Itoa(ordinal[invoice])
			qty, err1 := strconv.ParseInt(qtyText, 10, 64)
			price, ok := new(big.Rat).SetString(priceText)
			when, err3 := time.Parse("2006-01-02 15:04:05", date)
			if err1 != nil || !ok || err3 != nil {
				continue
			}
			ret := strings.HasPrefix(invoice, "C")
			if ret {
				qty = -qty
			}
			if invoice == "" || customer == "" || code == "" || when.Year() < 2000 || when.Year() >= 2100 ||
				qty <= 0 || price.Sign() <= 0 || claimed[lineID] {
				continue
			}
			claimed[lineID] = true
			out.accepted++
			month := when.Format("2006-01")
			amount := new(big.Rat).Mul(price, new(big.Rat).SetInt64(qty))
			if ret {
				amount.Neg(amount)
			} else {
				if out.units[month] == nil {
					out.units[month] = map[string]int64{}
				}
				out.units[month][code] += qty
			}
			if out.net[month] == nil {
				out.net[month] = new(big.Rat)
			}
			out.net[month].Add(out.net[month], amount)
		}
		zr.Close()
		f.Close()
	}
	return out
}
