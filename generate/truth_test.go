package generate

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

// TestTruthEqualsRecount generates histories in every file form and checks that truth.json equals
// an independent recount of the written files: per dataset and file and reason, per month to the
// thousandth, per product and month, per minute, the top-10s, the ratings and the spikes.
func TestTruthEqualsRecount(t *testing.T) {
	small := Small()
	small.TargetEvents = 30_000
	small.Days = 10
	cases := []struct {
		name string
		cfg  Config
		edit func(*Config)
	}{
		{"tiny ndjson", Tiny(), nil},
		{"tiny arrays gzip", Tiny(), func(c *Config) {
			c.ActivityForm, c.FeedbackForm, c.Gzip, c.Dirt.ActTruncatedFile = FormArray, FormArray, true, 1
		}},
		{"small heavy dirt", small, func(c *Config) {
			c.Dirt = Rates{
				TxMissingUser: 0.03, TxBadPrice: 0.03, TxBadQuantity: 0.03, TxMissingProduct: 0.03, TxBadType: 0.03,
				TxMalformed: 0.03, TxBadField: 0.03, TxDuplicate: 0.05,
				InvMessySKU: 0.5, InvMessyPrice: 0.5, InvMessyQuantity: 0.5, InvMessyCategory: 0.8,
				InvNegativeStock: 0.05, InvDuplicate: 0.05,
				ActTruncated: 0.03, ActTruncatedFile: 1, ActMissingUser: 0.03, ActBadType: 0.03,
				FbBadRating: 0.1, FbMissingUser: 0.1,
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			cfg.Dir = t.TempDir()
			got, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := LoadTruth(filepath.Join(cfg.Dir, TruthFile))
			if err != nil {
				t.Fatal(err)
			}
			same(t, "truth.json vs Run", loaded.Datasets, got.Datasets)
			same(t, "truth.json months vs Run", loaded.Months, got.Months)
			rc := recountDir(t, cfg.Dir, cfg.Start, cfg.Days)
			compareTruth(t, loaded, rc)
			checkDirtPresent(t, loaded)
		})
	}
}

func compareTruth(t *testing.T, tr *Truth, rc *recount) {
	t.Helper()
	same(t, "datasets", tr.Datasets, rc.datasets)

	var months []MonthTruth
	for _, mo := range slices.Sorted(maps.Keys(rc.months)) {
		m := *rc.months[mo]
		m.Orders = int64(len(rc.orders[mo]))
		months = append(months, m)
	}
	same(t, "months", tr.Months, months)

	var tops []MonthTop
	for _, mo := range slices.Sorted(maps.Keys(rc.months)) {
		var all []ProductUnits
		for id, pm := range rc.prodMon[mo] {
			if pm.UnitsSold > 0 {
				all = append(all, ProductUnits{id, pm.UnitsSold})
			}
		}
		slices.SortFunc(all, func(a, b ProductUnits) int {
			return cmp.Or(cmp.Compare(b.Units, a.Units), cmp.Compare(a.ProductID, b.ProductID))
		})
		tops = append(tops, MonthTop{Month: mo, Products: all[:min(10, len(all))]})
	}
	same(t, "top products", tr.TopProducts, tops)

	var minutes []MinuteTruth
	for m, buyers := range rc.buyers {
		if rc.minutes[m] == nil {
			rc.minutes[m] = &MinuteTruth{Minute: m, ByType: map[string]int64{}}
		}
		rc.minutes[m].Purchasers = int64(len(buyers))
	}
	for _, m := range slices.SortedFunc(maps.Keys(rc.minutes), time.Time.Compare) {
		mt := *rc.minutes[m]
		mt.ActiveUsers = int64(len(rc.active[m]))
		minutes = append(minutes, mt)
	}
	same(t, "minutes", tr.Minutes, minutes)

	for _, pm := range tr.ProductMonths {
		want := ProductMonth{ProductID: pm.ProductID, Month: pm.Month, UnitCost: rc.cost[pm.ProductID]}
		if p := rc.prodMon[pm.Month][pm.ProductID]; p != nil {
			want.UnitsSold, want.UnitsReturned, want.Gross, want.Revenue = p.UnitsSold, p.UnitsReturned, p.Gross, p.Revenue
			want.ClosingDays, want.ClosingUnitsSum, want.ClosingValueSum = p.ClosingDays, p.ClosingUnitsSum, p.ClosingValueSum
		}
		want.COGS = want.UnitCost * event.Money(want.UnitsSold)
		got := pm
		got.AvgOnHand, got.AvgInventoryValue = 0, 0
		if got != want {
			t.Fatalf("product month:\n got %+v\nwant %+v", got, want)
		}
		if pm.ClosingDays > 0 && pm.AvgOnHand != float64(pm.ClosingUnitsSum)/float64(pm.ClosingDays) {
			t.Fatalf("avg on hand %+v", pm)
		}
	}
	if len(tr.ProductMonths) != len(rc.cost)*len(tr.Months) {
		t.Fatalf("%d product months, want %d products × %d months", len(tr.ProductMonths), len(rc.cost), len(tr.Months))
	}

	var ratings []ProductRating
	for _, id := range slices.Sorted(maps.Keys(rc.ratings)) {
		ratings = append(ratings, *rc.ratings[id])
	}
	same(t, "ratings", tr.Ratings, ratings)

	var maxOrd int64
	for m, mt := range rc.minutes {
		if !slices.ContainsFunc(tr.Spikes, func(s Spike) bool { return s.Minute.Equal(m) }) {
			maxOrd = max(maxOrd, mt.Events)
		}
	}
	if tr.MaxOrdinaryMinuteEvents != maxOrd {
		t.Errorf("max ordinary minute events %d, recount %d", tr.MaxOrdinaryMinuteEvents, maxOrd)
	}
	if len(tr.Spikes) != tr.Config.Spikes {
		t.Fatalf("%d spikes, want %d", len(tr.Spikes), tr.Config.Spikes)
	}
	for _, s := range tr.Spikes {
		if s.Minute.Sub(tr.Start) < time.Hour {
			t.Errorf("spike %v in the warm-up hour", s.Minute)
		}
		if got := rc.minutes[s.Minute]; got == nil || got.Events != s.Events {
			t.Errorf("spike %v: truth says %d events, recount %+v", s.Minute, s.Events, got)
		}
		if float64(s.Events) < 5*s.DayMeanPerMinute || s.Injected < 100 || s.Events < 3*maxOrd {
			t.Errorf("spike %+v is not ≥ 5× the mean", s)
		}
	}
}

// checkDirtPresent makes sure the recount compared something: every kind of dirt the config asks
// for occurred at least once.
func checkDirtPresent(t *testing.T, tr *Truth) {
	tx, inv, act := tr.Datasets[DatasetTransactions], tr.Datasets[DatasetInventory], tr.Datasets[DatasetActivity]
	for _, c := range []struct {
		what string
		rate float64
		n    int64
	}{
		{"tx missing_user", tr.Config.Dirt.TxMissingUser, tx.Rejected[event.ReasonMissingUser]},
		{"tx malformed", tr.Config.Dirt.TxMalformed, tx.Unparseable[event.ReasonMalformed]},
		{"tx bad_field", tr.Config.Dirt.TxBadField, tx.Unparseable[event.ReasonBadField]},
		{"tx duplicates", tr.Config.Dirt.TxDuplicate, tx.Duplicates},
		{"inv duplicates", tr.Config.Dirt.InvDuplicate, inv.Duplicates},
		{"act malformed", tr.Config.Dirt.ActTruncated + tr.Config.Dirt.ActTruncatedFile, act.Unparseable[event.ReasonMalformed]},
		{"act bad_type", tr.Config.Dirt.ActBadType, act.Unparseable[event.ReasonBadType]},
		{"tx bad_type", tr.Config.Dirt.TxBadType, tx.Unparseable[event.ReasonBadType]},
		{"refund lines", 1, tr.Months[len(tr.Months)-1].RefundLines + tr.Months[len(tr.Months)-1].ReturnLines},
	} {
		if c.rate > 0 && c.n == 0 {
			t.Errorf("%s: none generated", c.what)
		}
	}
}

// same fails with both values as JSON when they differ.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) == string(w) {
		return // e.g. nil vs empty map
	}
	if len(g) > 4000 {
		g, w = g[:4000], w[:4000]
	}
	t.Fatalf("%s differ:\n got %s\nwant %s", what, g, w)
}
