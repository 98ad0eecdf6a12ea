package generate

// An independent recount of written files with encoding/csv and encoding/json, applying the rules
// of docs/formats.md ("Reading the files", "Ground truth") without any of the generator's code
// except the exported event model, so the truth is checked against the bytes on disk.

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

type recount struct {
	datasets map[string]*DatasetTruth
	months   map[string]*MonthTruth
	orders   map[string]map[string]bool
	prodMon  map[string]map[string]*ProductMonth // month → product → values
	minutes  map[time.Time]*MinuteTruth
	active   map[time.Time]map[string]bool
	buyers   map[time.Time]map[string]bool
	cost     map[string]event.Money
	level    map[string]int64
	ratings  map[string]*ProductRating
	seenTx   map[string]bool
	seenInv  map[string]bool
	day      time.Time // of the files being read
}

// inDay fails unless at is in the day of the file being read (or, for a re-sent transaction line,
// possibly the day before).
func (rc *recount) inDay(t *testing.T, path string, at time.Time, dup bool) {
	t.Helper()
	from := rc.day
	if dup {
		from = from.AddDate(0, 0, -1)
	}
	if at.Before(from) || !at.Before(rc.day.AddDate(0, 0, 1)) || at.Nanosecond() != 0 {
		t.Fatalf("%s: event time %v outside the file's day", path, at)
	}
}

func openData(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	return f
}

func recountDir(t *testing.T, dir string, start time.Time, days int) *recount {
	rc := &recount{
		datasets: map[string]*DatasetTruth{}, months: map[string]*MonthTruth{}, orders: map[string]map[string]bool{},
		prodMon: map[string]map[string]*ProductMonth{}, minutes: map[time.Time]*MinuteTruth{},
		active: map[time.Time]map[string]bool{}, buyers: map[time.Time]map[string]bool{},
		cost: map[string]event.Money{}, level: map[string]int64{}, ratings: map[string]*ProductRating{},
		seenTx: map[string]bool{}, seenInv: map[string]bool{},
	}
	for _, ds := range []string{DatasetActivity, DatasetTransactions, DatasetInventory, DatasetFeedback} {
		rc.datasets[ds] = &DatasetTruth{Unparseable: map[event.Reason]int64{}, Rejected: map[event.Reason]int64{}, AcceptedByType: map[string]int64{}}
	}
	for d := range days {
		day := start.AddDate(0, 0, d)
		name := day.Format("2006-01-02")
		find := func(ds string) string {
			m, _ := filepath.Glob(filepath.Join(dir, ds, name+".*"))
			if len(m) != 1 {
				t.Fatalf("%s files for %s: %v", ds, name, m)
			}
			return m[0]
		}
		rc.day = day
		rc.transactions(t, dir, find(DatasetTransactions))
		rc.inventory(t, dir, find(DatasetInventory), day)
		rc.activity(t, dir, find(DatasetActivity))
		rc.feedback(t, dir, find(DatasetFeedback))
	}
	return rc
}

// file adds a file entry to ds and returns it for counting.
func (rc *recount) file(dir, ds, path string) *FileTruth {
	rel, _ := filepath.Rel(dir, path)
	d := rc.datasets[ds]
	d.Files = append(d.Files, FileTruth{Path: filepath.ToSlash(rel)})
	return &d.Files[len(d.Files)-1]
}

func (rc *recount) count(ds string, f *FileTruth, o outcome, reason event.Reason, typ string) {
	d := rc.datasets[ds]
	d.Rows++
	f.Rows++
	if o != unparseable {
		d.Sent++
	}
	switch o {
	case unparseable:
		d.Unparseable[reason]++
		f.Unparseable++
	case rejected:
		d.Rejected[reason]++
	default:
		d.AcceptedByType[typ]++
		d.Accepted++
	}
}

// duplicate counts a row that repeats an accepted record's id (sent, then dropped as a duplicate).
func (rc *recount) duplicate(ds string, f *FileTruth) {
	d := rc.datasets[ds]
	d.Rows++
	d.Sent++
	d.Duplicates++
	f.Rows++
}

func (rc *recount) pm(month, product string) *ProductMonth {
	if rc.prodMon[month] == nil {
		rc.prodMon[month] = map[string]*ProductMonth{}
	}
	p := rc.prodMon[month][product]
	if p == nil {
		p = &ProductMonth{ProductID: product, Month: month}
		rc.prodMon[month][product] = p
	}
	return p
}

func (rc *recount) month(m string) *MonthTruth {
	if rc.months[m] == nil {
		rc.months[m] = &MonthTruth{Month: m}
	}
	return rc.months[m]
}

func (rc *recount) transactions(t *testing.T, dir, path string) {
	f := rc.file(dir, DatasetTransactions, path)
	r := csv.NewReader(openData(t, path))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil || len(header) != 11 {
		t.Fatalf("%s header %v: %v", path, header, err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(rec) != 11 {
			rc.count(DatasetTransactions, f, unparseable, event.ReasonMalformed, "")
			continue
		}
		qty, err1 := strconv.ParseInt(rec[6], 10, 64)
		price, err2 := event.ParseMoney(rec[7])
		at, err3 := time.Parse(time.RFC3339, rec[10])
		if err1 != nil || err2 != nil || err3 != nil {
			rc.count(DatasetTransactions, f, unparseable, event.ReasonBadField, "")
			continue
		}
		l := event.TransactionLine{LineID: rec[0], OrderID: rec[1], Type: event.TxType(rec[2]), UserID: rec[3],
			ProductID: rec[4], Quantity: qty, UnitPrice: price, Time: at}
		if !l.Type.Valid() {
			rc.count(DatasetTransactions, f, unparseable, event.ReasonBadType, "")
			continue
		}
		var reason event.Reason
		switch {
		case l.OrderID == "":
			reason = event.ReasonMissingOrder
		case l.UserID == "":
			reason = event.ReasonMissingUser
		case l.ProductID == "":
			reason = event.ReasonMissingProduct
		case l.Quantity <= 0:
			reason = event.ReasonBadQuantity
		case l.UnitPrice <= 0:
			reason = event.ReasonBadPrice
		}
		if reason != "" {
			rc.count(DatasetTransactions, f, rejected, reason, "")
			continue
		}
		rc.inDay(t, path, l.Time, rc.seenTx[l.LineID])
		if rc.seenTx[l.LineID] {
			rc.duplicate(DatasetTransactions, f)
			continue
		}
		rc.seenTx[l.LineID] = true
		rc.count(DatasetTransactions, f, accepted, "", string(l.Type))
		amount, _ := l.Amount()
		mo := l.Time.Format("2006-01")
		mt := rc.month(mo)
		pm := rc.pm(mo, l.ProductID)
		mt.Net += amount
		pm.Revenue += amount
		switch l.Type {
		case event.Purchase:
			mt.Gross += amount
			mt.PurchaseLines++
			mt.PurchaseUnits += l.Quantity
			pm.Gross += amount
			pm.UnitsSold += l.Quantity
			if rc.orders[mo] == nil {
				rc.orders[mo] = map[string]bool{}
			}
			rc.orders[mo][l.OrderID] = true
			minute := l.Time.Truncate(time.Minute)
			if rc.buyers[minute] == nil {
				rc.buyers[minute] = map[string]bool{}
			}
			rc.buyers[minute][l.UserID] = true
		case event.Refund:
			mt.Refunds += amount
			mt.RefundLines++
		case event.Return:
			mt.Returns += amount
			mt.ReturnLines++
			pm.UnitsReturned += l.Quantity
		}
	}
}

// standardCategory is the rule of docs/formats.md: lower case; "&" → " and "; spaces collapsed;
// then each word title-cased and "and" written "&".
func standardCategory(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "&", " and ")
	words := strings.Fields(s)
	for i, w := range words {
		if w == "and" {
			words[i] = "&"
		} else {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func standardMoney(s string) (event.Money, error) {
	s = strings.NewReplacer("$", "", ",", "", " ", "").Replace(s)
	return event.ParseMoney(s)
}

func standardUnits(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, unit := range []string{"pcs", "units"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, unit))
	}
	return strconv.ParseInt(s, 10, 64)
}

func (rc *recount) inventory(t *testing.T, dir, path string, day time.Time) {
	f := rc.file(dir, DatasetInventory, path)
	r := csv.NewReader(openData(t, path))
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	type report struct {
		at    time.Time
		units int64
	}
	last := map[string]report{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		at, err := time.Parse(time.RFC3339, rec[8])
		if err != nil {
			t.Fatalf("%s: time %q", path, rec[8])
		}
		rc.inDay(t, path, at, false)
		sku := strings.ToUpper(strings.TrimSpace(rec[2]))
		typ := event.InventoryType(rec[1])
		var units int64
		if typ == event.StockReport || typ == event.Restock {
			units, err = standardUnits(rec[7])
			if err != nil {
				t.Fatalf("%s: units %q", path, rec[7])
			}
			if units < 0 {
				rc.count(DatasetInventory, f, rejected, event.ReasonBadQuantity, "")
				continue
			}
		}
		if rc.seenInv[rec[0]] {
			rc.duplicate(DatasetInventory, f)
			continue
		}
		rc.seenInv[rec[0]] = true
		rc.count(DatasetInventory, f, accepted, "", string(typ))
		switch typ {
		case event.ProductInfo:
			if c := standardCategory(rec[4]); !slices.Contains(Categories, c) {
				t.Errorf("%s: category %q standardizes to %q", path, rec[4], c)
			}
			price, err1 := standardMoney(rec[5])
			cost, err2 := standardMoney(rec[6])
			if err1 != nil || err2 != nil || cost >= price || cost <= 0 {
				t.Errorf("%s: price %q cost %q", path, rec[5], rec[6])
			}
			rc.cost[sku] = cost
		case event.StockReport:
			if p, ok := last[sku]; !ok || !at.Before(p.at) {
				last[sku] = report{at, units}
			}
		}
	}
	for sku, p := range last {
		rc.level[sku] = p.units
	}
	mo := day.Format("2006-01")
	for sku, level := range rc.level {
		pm := rc.pm(mo, sku)
		pm.ClosingDays++
		pm.ClosingUnitsSum += level
		pm.ClosingValueSum += event.Money(level) * rc.cost[sku]
	}
}

var productTypes = map[event.ActivityType]bool{event.ProductView: true, event.AddToCart: true, event.RemoveFromCart: true}

func (rc *recount) activity(t *testing.T, dir, path string) {
	f := rc.file(dir, DatasetActivity, path)
	in := openData(t, path)
	handle := func(raw []byte) {
		var a event.Activity
		if err := json.Unmarshal(raw, &a); err != nil {
			rc.count(DatasetActivity, f, unparseable, event.ReasonMalformed, "")
			return
		}
		if !a.Type.Valid() {
			rc.count(DatasetActivity, f, unparseable, event.ReasonBadType, "")
			return
		}
		var reason event.Reason
		switch {
		case a.UserID == "":
			reason = event.ReasonMissingUser
		case productTypes[a.Type] && a.ProductID == "":
			reason = event.ReasonMissingProduct
		}
		if reason != "" {
			rc.count(DatasetActivity, f, rejected, reason, "")
			return
		}
		rc.count(DatasetActivity, f, accepted, "", string(a.Type))
		rc.inDay(t, path, a.Time, false)
		minute := a.Time.Truncate(time.Minute)
		mt := rc.minutes[minute]
		if mt == nil {
			mt = &MinuteTruth{Minute: minute, ByType: map[string]int64{}}
			rc.minutes[minute] = mt
			rc.active[minute] = map[string]bool{}
		}
		mt.Events++
		mt.ByType[string(a.Type)]++
		rc.active[minute][a.UserID] = true
	}
	eachJSON(t, path, in, handle)
}

// eachJSON calls handle with every object of an NDJSON file (one a line) or a JSON array; in an
// array, an object that does not decode ends the file (it was cut) and is handed over as is.
func eachJSON(t *testing.T, path string, in io.Reader, handle func([]byte)) {
	if strings.Contains(path, ".ndjson") {
		s := bufio.NewScanner(in)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			handle(s.Bytes())
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		return
	}
	dec := json.NewDecoder(in)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("%s: no array: %v", path, err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			handle([]byte("{cut"))
			return
		}
		handle(raw)
	}
	if _, err := dec.Token(); err != nil {
		t.Fatalf("%s: array not closed: %v", path, err)
	}
}

func (rc *recount) feedback(t *testing.T, dir, path string) {
	f := rc.file(dir, DatasetFeedback, path)
	eachJSON(t, path, openData(t, path), func(raw []byte) {
		var v event.Review
		if err := json.Unmarshal(raw, &v); err != nil {
			rc.count(DatasetFeedback, f, unparseable, event.ReasonMalformed, "")
			return
		}
		var reason event.Reason
		switch {
		case v.UserID == "":
			reason = event.ReasonMissingUser
		case v.ProductID == "":
			reason = event.ReasonMissingProduct
		case v.Rating < 1 || v.Rating > 5:
			reason = event.ReasonBadRating
		}
		if reason != "" {
			rc.count(DatasetFeedback, f, rejected, reason, "")
			return
		}
		rc.count(DatasetFeedback, f, accepted, "", "review")
		rc.inDay(t, path, v.Time, false)
		pr := rc.ratings[v.ProductID]
		if pr == nil {
			pr = &ProductRating{ProductID: v.ProductID}
			rc.ratings[v.ProductID] = pr
		}
		pr.Count++
		pr.Sum += int64(v.Rating)
		pr.Dist[v.Rating-1]++
	})
}
