package generate

import (
	"encoding/csv"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/event"
)

// merger takes day results in day order and owns everything that crosses days: the rows planned
// for later files, the stock levels, and the truth.
type merger struct {
	w          *world
	stock      *stock
	pendingTx  map[int][]txRow
	pendingRev map[int][]reviewRow

	counts  map[string]*counts
	files   map[string][]FileTruth
	months  map[string]*MonthTruth
	prodMon map[string][]ProductMonth // month → per product
	closing []int64                   // last accepted closing level per product, -1 while unknown
	ratings map[int]*ProductRating
	minutes []MinuteTruth
	spikes  []Spike
	maxOrd  int64 // most events in a minute that is not a spike
}

func newMerger(w *world) *merger {
	m := &merger{
		w: w, stock: newStock(w), pendingTx: map[int][]txRow{}, pendingRev: map[int][]reviewRow{},
		counts: map[string]*counts{}, files: map[string][]FileTruth{}, months: map[string]*MonthTruth{},
		prodMon: map[string][]ProductMonth{}, closing: make([]int64, len(w.products)), ratings: map[int]*ProductRating{},
	}
	for _, ds := range []string{DatasetActivity, DatasetTransactions, DatasetInventory, DatasetFeedback} {
		m.counts[ds] = newCounts()
	}
	for i := range m.closing {
		m.closing[i] = -1
	}
	for d := 0; d < w.cfg.Days; d++ {
		mo := monthOf(w.day(d))
		if _, ok := m.months[mo]; ok {
			continue
		}
		m.months[mo] = &MonthTruth{Month: mo}
		pm := make([]ProductMonth, len(w.products))
		for p := range pm {
			pm[p] = ProductMonth{ProductID: w.products[p].ID, Month: mo, UnitCost: w.products[p].Cost}
		}
		m.prodMon[mo] = pm
	}
	return m
}

// mergeDay writes the day's transactions, inventory and feedback files and adds the day to the truth.
func (m *merger) mergeDay(res *dayResult) error {
	d := res.day
	for _, row := range res.tx {
		m.pendingTx[row.fileDay] = append(m.pendingTx[row.fileDay], row)
	}
	for _, row := range res.reviews {
		m.pendingRev[row.fileDay] = append(m.pendingRev[row.fileDay], row)
	}
	m.counts[DatasetActivity].merge(res.act)
	m.files[DatasetActivity] = append(m.files[DatasetActivity], res.actFile)

	purchasers, sales, err := m.writeTransactions(d, m.pendingTx[d])
	delete(m.pendingTx, d)
	if err != nil {
		return err
	}
	if err := m.writeInventory(d, m.inventoryDay(d, sales)); err != nil {
		return err
	}
	if err := m.writeFeedback(d, m.pendingRev[d]); err != nil {
		return err
	}
	delete(m.pendingRev, d)
	m.addMinutes(d, res, purchasers)
	return nil
}

// writeTransactions writes the day's file and returns, for the truth and the stock, the distinct
// purchasers per minute of the day and the accepted stock movements in time order.
func (m *merger) writeTransactions(d int, rows []txRow) (map[int]map[string]bool, []sale, error) {
	cfg := &m.w.cfg
	t0 := m.w.day(d)
	rel := dataPath(DatasetTransactions, t0, ".csv", cfg.Gzip)
	f, err := createFile(filepath.Join(cfg.Dir, rel), cfg.Gzip)
	if err != nil {
		return nil, nil, err
	}
	cw := csv.NewWriter(f)
	cw.Write(transactionsHeader)
	c := newCounts()
	purchasers := map[int]map[string]bool{}
	orders := map[string]map[string]bool{}
	var sales []sale
	for i := range rows {
		row := &rows[i]
		cw.Write(txRecord(row))
		l := &row.line
		c.add(row.defect, row.dup, string(l.Type))
		if row.dup || row.defect != defectNone {
			continue
		}
		amount, _ := l.Amount() // generated amounts are far from overflow
		mo := monthOf(l.Time)
		mt := m.months[mo]
		prod := m.w.productIndex(l.ProductID)
		pm := &m.prodMon[mo][prod]
		pm.Revenue += amount
		switch l.Type {
		case event.Purchase:
			mt.Gross += amount
			mt.PurchaseLines++
			mt.PurchaseUnits += l.Quantity
			pm.Gross += amount
			pm.UnitsSold += l.Quantity
			if orders[mo] == nil {
				orders[mo] = map[string]bool{}
			}
			orders[mo][l.OrderID] = true
			min := int(l.Time.Sub(t0) / time.Minute)
			if purchasers[min] == nil {
				purchasers[min] = map[string]bool{}
			}
			purchasers[min][l.UserID] = true
			sales = append(sales, sale{t: l.Time, prod: prod, units: -l.Quantity})
		case event.Refund:
			mt.Refunds += amount
			mt.RefundLines++
		case event.Return:
			mt.Returns += amount
			mt.ReturnLines++
			pm.UnitsReturned += l.Quantity
			sales = append(sales, sale{t: l.Time, prod: prod, units: l.Quantity})
		}
		mt.Net += amount
	}
	for mo, set := range orders {
		m.months[mo].Orders += int64(len(set))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.abort()
		return nil, nil, err
	}
	m.counts[DatasetTransactions].merge(c)
	m.files[DatasetTransactions] = append(m.files[DatasetTransactions], FileTruth{Path: filepath.ToSlash(rel), Rows: c.rows, Unparseable: c.rows - c.accepted - c.duplicates - sumReasons(c.rejected)})
	slices.SortStableFunc(sales, func(a, b sale) int { return a.t.Compare(b.t) })
	return purchasers, sales, f.close()
}

var transactionsHeader = []string{"line_id", "order_id", "type", "user_id", "product_id", "description", "quantity", "unit_price", "currency", "country", "time"}

// txRecord is the CSV record of a transaction row, with its defect applied.
func txRecord(row *txRow) []string {
	l := &row.line
	rec := []string{l.LineID, l.OrderID, string(l.Type), l.UserID, l.ProductID, l.Description,
		strconv.FormatInt(l.Quantity, 10), l.UnitPrice.String(), l.Currency, l.Country, l.Time.Format(time.RFC3339)}
	v := row.variant
	switch row.defect {
	case defectMissingUser:
		rec[3] = ""
	case defectMissingProduct:
		rec[4] = ""
	case defectBadType:
		rec[2] = []string{"purchse", "exchange"}[v]
	case defectBadQuantity:
		rec[6] = []string{"0", "-" + rec[6]}[v]
	case defectBadPrice:
		rec[7] = []string{"0", "-" + rec[7]}[v]
	case defectBadField:
		rec[6] = []string{"abc", "two"}[v]
	case defectMalformed:
		if v == 0 {
			rec = rec[:len(rec)-1]
		} else {
			rec = append(rec, "x")
		}
	}
	return rec
}

// writeInventory writes the day's inventory file and updates each product's closing level from the
// last accepted stock report of the day (carried forward when there is none).
func (m *merger) writeInventory(d int, rows []invRow) error {
	cfg := &m.w.cfg
	t0 := m.w.day(d)
	rel := dataPath(DatasetInventory, t0, ".csv", cfg.Gzip)
	f, err := createFile(filepath.Join(cfg.Dir, rel), cfg.Gzip)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write(inventoryHeader)
	c := newCounts()
	for i := range rows {
		row := &rows[i]
		cw.Write(invRecord(row))
		c.add(row.defect, row.dup, string(row.u.Type))
		if !row.dup && row.defect == defectNone && row.u.Type == event.StockReport {
			m.closing[row.prod] = row.units
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.abort()
		return err
	}
	m.counts[DatasetInventory].merge(c)
	m.files[DatasetInventory] = append(m.files[DatasetInventory], FileTruth{Path: filepath.ToSlash(rel), Rows: c.rows})
	pm := m.prodMon[monthOf(t0)]
	for p, level := range m.closing {
		if level < 0 {
			continue
		}
		pm[p].ClosingDays++
		pm[p].ClosingUnitsSum += level
		pm[p].ClosingValueSum += event.Money(level) * m.w.products[p].Cost
	}
	return f.close()
}

// writeFeedback writes the day's reviews in time order.
func (m *merger) writeFeedback(d int, rows []reviewRow) error {
	cfg := &m.w.cfg
	rel := dataPath(DatasetFeedback, m.w.day(d), formExt(cfg.FeedbackForm), cfg.Gzip)
	f, err := createFile(filepath.Join(cfg.Dir, rel), cfg.Gzip)
	if err != nil {
		return err
	}
	slices.SortStableFunc(rows, func(a, b reviewRow) int { return a.review.Time.Compare(b.review.Time) })
	out := &jsonRows{w: f, form: cfg.FeedbackForm}
	c := newCounts()
	var buf []byte
	for i := range rows {
		row := &rows[i]
		buf = appendReview(buf[:0], &row.review)
		out.write(buf)
		c.add(row.defect, false, "review")
		if row.defect != defectNone {
			continue
		}
		p := m.w.productIndex(row.review.ProductID)
		pr := m.ratings[p]
		if pr == nil {
			pr = &ProductRating{ProductID: row.review.ProductID}
			m.ratings[p] = pr
		}
		pr.Count++
		pr.Sum += int64(row.review.Rating)
		pr.Dist[row.review.Rating-1]++
	}
	if err := out.close(); err != nil {
		f.abort()
		return err
	}
	m.counts[DatasetFeedback].merge(c)
	m.files[DatasetFeedback] = append(m.files[DatasetFeedback], FileTruth{Path: filepath.ToSlash(rel), Rows: c.rows})
	return f.close()
}

// addMinutes records the day's minutes that have accepted activity or purchases, and its spikes.
func (m *merger) addMinutes(d int, res *dayResult, purchasers map[int]map[string]bool) {
	t0 := m.w.day(d)
	for i := range res.minutes {
		ms := &res.minutes[i]
		var events int64
		for _, n := range ms.events {
			events += int64(n)
		}
		if events == 0 && len(purchasers[i]) == 0 {
			continue
		}
		mt := MinuteTruth{Minute: t0.Add(time.Duration(i) * time.Minute), ActiveUsers: int64(ms.active),
			Purchasers: int64(len(purchasers[i])), Events: events, ByType: map[string]int64{}}
		for k, n := range ms.events {
			if n > 0 {
				mt.ByType[string(actTypeIndex[k])] = int64(n)
			}
		}
		m.minutes = append(m.minutes, mt)
		if !slices.ContainsFunc(res.spikes, func(s Spike) bool { return s.Minute.Equal(mt.Minute) }) {
			m.maxOrd = max(m.maxOrd, events)
		}
	}
	for _, s := range res.spikes {
		i := int(s.Minute.Sub(t0) / time.Minute)
		for _, n := range res.minutes[i].events {
			s.Events += int64(n)
		}
		m.spikes = append(m.spikes, s)
	}
}

// productIndex parses a generated product id ("P0042" → 42).
func (w *world) productIndex(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "P"))
	return n
}

func sumReasons(m map[event.Reason]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
