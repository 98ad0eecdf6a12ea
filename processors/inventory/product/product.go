package product

import (
	"sort"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// HorizonDays is how many UTC days of event time a product keeps open: records up to this many
// days older than the product's newest record are still placed exactly (and recognized as
// duplicates by event id); older days are final.
const HorizonDays = 35

// MonthsKept is how many months of folded closing sums a product keeps (the newest ones).
const MonthsKept = 36

const day = 24 * time.Hour

// Entry is one applied record in the Window.
type Entry struct {
	ID    string              `json:"id"`
	Type  event.InventoryType `json:"type"`
	At    time.Time           `json:"at"`
	Units int64               `json:"units,omitempty"` // stock_report: level; restock: units received
	Cost  *event.Money        `json:"cost,omitempty"`  // product_info: the cost it set, if any
}

// Base is the state at the end of the last final day.
type Base struct {
	// Through is the midnight (UTC) that starts the last final day; zero while no day is final.
	Through time.Time `json:"through"`
	// Level is the closing level of that day, -1 while unknown.
	Level int64 `json:"level"`
	// OnHand is the on-hand units at its end.
	OnHand int64 `json:"on_hand"`
	// Cost is the cost in force at its end, nil while unknown.
	Cost *event.Money `json:"cost,omitempty"`
}

// MonthClosing is the closing stock of one product in one UTC month.
type MonthClosing struct {
	Month    string      `json:"month"`     // "2024-03"
	Days     int64       `json:"days"`      // days with a known closing level
	UnitsSum int64       `json:"units_sum"` // Σ closing level over those days
	ValueSum event.Money `json:"value_sum"` // Σ closing level × cost in force
	// Unvalued counts the days among Days valued at 0 because no cost was known at all.
	Unvalued int64 `json:"unvalued,omitempty"`
}

// Product is the table value of one canonical SKU.
type Product struct {
	SKU      string       `json:"sku"`
	Name     string       `json:"name,omitempty"`
	Category string       `json:"category,omitempty"`
	Price    *event.Money `json:"price,omitempty"`
	Cost     *event.Money `json:"cost,omitempty"`
	// InfoAt and InfoID identify the product_info the fields above came from: a product_info
	// replaces them only when it is newer by (event time, event id).
	InfoAt time.Time `json:"info_at"`
	InfoID string    `json:"info_id,omitempty"`
	// Level is the units of the newest stock report (by event time), -1 before the first.
	Level int64 `json:"level"`
	// OnHand is Level plus the restocks after that report (restocks alone count from 0).
	OnHand int64 `json:"on_hand"`
	// Updated is the newest event time applied.
	Updated time.Time `json:"updated"`
	// Applied, Duplicates and Late count the records applied, skipped as duplicates (event id
	// already in the Window) and skipped as late (their day was final).
	Applied    int64 `json:"applied"`
	Duplicates int64 `json:"duplicates"`
	Late       int64 `json:"late"`
	// Fence skips redeliveries (package fence).
	Fence fence.Vector `json:"fence,omitempty"`
	Base  Base         `json:"base"`
	// Closed holds the folded months, oldest first, at most MonthsKept.
	Closed []MonthClosing `json:"closed,omitempty"`
	// Window holds the records of the open days, in (event time, type rank, event id) order.
	Window []Entry `json:"window,omitempty"`
}

// New returns the empty value of sku.
func New(sku string) *Product {
	return &Product{SKU: sku, Level: -1, Base: Base{Level: -1}}
}

// Result is what Apply did with a record.
type Result uint8

// The results of Apply.
const (
	Applied Result = iota
	Duplicate
	Late
)

// Apply applies a standardized record of this product. The caller has already passed it through
// the Fence; Apply recognizes duplicates by event id and late records by their day.
func (p *Product) Apply(r *event.InventoryRecord) Result {
	d := dayOf(r.Time)
	if !p.Base.Through.IsZero() && !d.After(p.Base.Through) {
		p.Late++
		return Late
	}
	if r.EventID != "" && p.seen(r.EventID) {
		p.Duplicates++
		return Duplicate
	}
	e := Entry{ID: r.EventID, Type: r.Type, At: r.Time.UTC()}
	switch r.Type {
	case event.StockReport, event.Restock:
		e.Units = r.Units
	case event.ProductInfo:
		e.Cost = r.Cost
		p.applyInfo(r)
	}
	if p.Name == "" {
		p.Name = r.Name
	}
	p.insert(e)
	if r.Time.After(p.Updated) {
		p.Updated = r.Time.UTC()
	}
	p.Applied++
	p.fold(dayOf(p.Updated).Add(-HorizonDays * day))
	p.derive()
	return Applied
}

// applyInfo takes name, category, price and cost from a product_info newer than the current one.
func (p *Product) applyInfo(r *event.InventoryRecord) {
	if !p.InfoAt.IsZero() && (r.Time.Before(p.InfoAt) || (r.Time.Equal(p.InfoAt) && r.EventID < p.InfoID)) {
		return
	}
	p.InfoAt, p.InfoID = r.Time.UTC(), r.EventID
	if r.Name != "" {
		p.Name = r.Name
	}
	if r.Category != "" {
		p.Category = r.Category
	}
	if r.Price != nil {
		p.Price = r.Price
	}
	if r.Cost != nil {
		p.Cost = r.Cost
	}
}

func (p *Product) seen(id string) bool {
	for i := range p.Window {
		if p.Window[i].ID == id {
			return true
		}
	}
	return false
}

// rank orders entries of the same instant: a product_info first, then restocks, then the stock
// report, so that a report counts the restocks of its own instant as included.
func rank(t event.InventoryType) int {
	switch t {
	case event.ProductInfo:
		return 0
	case event.Restock:
		return 1
	}
	return 2
}

func less(a, b *Entry) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	if ra, rb := rank(a.Type), rank(b.Type); ra != rb {
		return ra < rb
	}
	return a.ID < b.ID
}

// insert puts e at its place in the Window; records mostly arrive in order, so it is mostly an
// append.
func (p *Product) insert(e Entry) {
	w := p.Window
	i := sort.Search(len(w), func(i int) bool { return less(&e, &w[i]) })
	w = append(w, Entry{})
	copy(w[i+1:], w[i:])
	w[i] = e
	p.Window = w
}

// state is the stock state while walking the Window.
type state struct {
	level  int64
	onHand int64
	cost   *event.Money
}

func (s *state) apply(e *Entry) {
	switch e.Type {
	case event.StockReport:
		s.level, s.onHand = e.Units, e.Units
	case event.Restock:
		s.onHand += e.Units
	case event.ProductInfo:
		if e.Cost != nil {
			s.cost = e.Cost
		}
	}
}

// derive recomputes Level and OnHand from the Base and the Window.
func (p *Product) derive() {
	s := state{level: p.Base.Level, onHand: p.Base.OnHand}
	for i := range p.Window {
		s.apply(&p.Window[i])
	}
	p.Level, p.OnHand = s.level, s.onHand
}

// walk replays the Window over the Base day by day through the day last (a midnight) and calls
// run for every stretch of days [from, to] that closes at the same level and cost. It returns
// the state at the end of last and the number of Window entries on days up to last.
func (p *Product) walk(last time.Time, run func(from, to time.Time, level int64, cost *event.Money)) (state, int) {
	s := state{level: p.Base.Level, onHand: p.Base.OnHand, cost: p.Base.Cost}
	w := p.Window
	var cur time.Time
	switch {
	case !p.Base.Through.IsZero():
		cur = p.Base.Through.Add(day)
	case len(w) > 0:
		cur = dayOf(w[0].At)
	default:
		return s, 0
	}
	i := 0
	for !cur.After(last) {
		for i < len(w) && !dayOf(w[i].At).After(cur) {
			s.apply(&w[i])
			i++
		}
		next := last.Add(day)
		if i < len(w) {
			if d := dayOf(w[i].At); d.Before(next) {
				next = d
			}
		}
		cost := s.cost
		if cost == nil {
			cost = p.Cost
		}
		if s.level >= 0 {
			run(cur, next.Add(-day), s.level, cost)
		}
		cur = next
	}
	return s, i
}

// fold makes every day up to through (a midnight) final: their closings go into Closed, their
// records leave the Window, and the Base moves to the end of through.
func (p *Product) fold(through time.Time) {
	if !through.After(p.Base.Through) {
		return
	}
	if p.Base.Through.IsZero() && (len(p.Window) == 0 || dayOf(p.Window[0].At).After(through)) {
		// Nothing is known before through; the days before it stay unknown.
		p.Base.Through = through
		return
	}
	s, n := p.walk(through, func(from, to time.Time, level int64, cost *event.Money) {
		p.Closed = addRun(p.Closed, from, to, level, cost)
	})
	p.Base = Base{Through: through, Level: s.level, OnHand: s.onHand, Cost: s.cost}
	p.Window = append(p.Window[:0], p.Window[n:]...)
	if len(p.Closed) > MonthsKept {
		p.Closed = append(p.Closed[:0], p.Closed[len(p.Closed)-MonthsKept:]...)
	}
}

// Closing returns the closing stock per month, oldest first, counting every day up to and
// including asOf's day (levels carried forward past the newest record). Months without a day of
// known level are left out. For an asOf before the last final day, the final months are returned
// whole.
func (p *Product) Closing(asOf time.Time) []MonthClosing {
	out := append([]MonthClosing(nil), p.Closed...)
	last := dayOf(asOf)
	if last.After(p.Base.Through) {
		p.walk(last, func(from, to time.Time, level int64, cost *event.Money) {
			out = addRun(out, from, to, level, cost)
		})
	}
	return out
}

// ClosingOf returns the closing stock of month ("2006-01") counted up to asOf (see Closing); the
// zero MonthClosing (with Month set) when no day of it has a known level.
func (p *Product) ClosingOf(month string, asOf time.Time) MonthClosing {
	for _, m := range p.Closing(asOf) {
		if m.Month == month {
			return m
		}
	}
	return MonthClosing{Month: month}
}

// addRun adds the days [from, to], all closing at level and valued at cost, to the month sums ms
// (ordered by month; runs arrive in day order).
func addRun(ms []MonthClosing, from, to time.Time, level int64, cost *event.Money) []MonthClosing {
	for !from.After(to) {
		monthStart := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		end := monthStart.AddDate(0, 1, 0).Add(-day)
		if end.After(to) {
			end = to
		}
		n := int64(end.Sub(from)/day) + 1
		month := from.Format("2006-01")
		if len(ms) == 0 || ms[len(ms)-1].Month != month {
			ms = append(ms, MonthClosing{Month: month})
		}
		m := &ms[len(ms)-1]
		m.Days += n
		units := mulSat(level, n)
		m.UnitsSum = addSat(m.UnitsSum, units)
		if cost == nil {
			m.Unvalued += n
		} else {
			m.ValueSum = event.Money(addSat(int64(m.ValueSum), mulSat(units, int64(*cost))))
		}
		from = end.Add(day)
	}
	return ms
}

// dayOf returns the midnight (UTC) that starts t's day.
func dayOf(t time.Time) time.Time { return t.UTC().Truncate(day) }

// mulSat and addSat saturate at the ends of int64 instead of wrapping: sums of absurd levels
// and costs pin at the limit rather than turn negative.
func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	c := a * b
	if c/b != a || (a == -1 && b == minInt) || (b == -1 && a == minInt) {
		if (a < 0) != (b < 0) {
			return minInt
		}
		return maxInt
	}
	return c
}

func addSat(a, b int64) int64 {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		if b > 0 {
			return maxInt
		}
		return minInt
	}
	return c
}

const (
	maxInt = int64(^uint64(0) >> 1)
	minInt = -maxInt - 1
)
