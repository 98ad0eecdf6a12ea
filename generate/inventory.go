package generate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/event"
)

// invRow is one inventory update as it will be written, with its true units and at most one defect.
type invRow struct {
	u      event.InventoryUpdate
	prod   int
	units  int64 // true units of a stock_report or restock
	defect defect
	dup    bool
}

// Times of the daily inventory routine (UTC): restock in the morning, report on-hand at closing.
// Sessions, refunds and returns all end before 23:55, so the closing report sees the whole day.
const (
	restockAt = 6 * time.Hour
	closingAt = 23*time.Hour + 59*time.Minute
)

// stock is the true on-hand of every product and the restock policy, owned by the merger.
type stock struct {
	onHand  []int64
	target  []int64 // restock up to this level
	reorder []int64 // restock in the morning when below this level
}

// newStock sizes each product's stock to about ten days of its expected demand.
func newStock(w *world) *stock {
	s := &stock{onHand: make([]int64, len(w.products)), target: make([]int64, len(w.products)), reorder: make([]int64, len(w.products))}
	total := w.popCum[len(w.popCum)-1]
	prev := 0.0
	for i := range w.products {
		share := (w.popCum[i] - prev) / total
		prev = w.popCum[i]
		// ~0.3 orders per session, ~1.4 lines per order, ~1.6 units per line.
		demand := float64(w.sessions) * 0.3 * 1.4 * 1.6 * share
		s.target[i] = int64(math.Ceil(demand*10)) + 10
		s.reorder[i] = int64(math.Ceil(demand*3)) + 3
		s.onHand[i] = s.target[i]
	}
	return s
}

// sale is a stock movement from an accepted transaction line.
type sale struct {
	t     time.Time
	prod  int
	units int64 // negative for a sale, positive for a return
}

// inventoryDay builds the day's inventory updates: product info at the start of the history and at
// price changes, a morning restock of low products, an emergency restock when a sale would take
// on-hand below zero, and one closing stock report per product. Then it applies the dirt.
func (m *merger) inventoryDay(d int, sales []sale) []invRow {
	w := m.w
	t0 := w.day(d)
	var rows []invRow
	info := func(p int, at time.Time) {
		prod := &w.products[p]
		rows = append(rows, invRow{prod: p, u: event.InventoryUpdate{
			Type: event.ProductInfo, SKU: prod.ID, Name: prod.Name, Category: Categories[prod.Category],
			Price: prod.priceAt(at).String(), Cost: prod.Cost.String(), Time: at,
		}})
	}
	units := func(typ event.InventoryType, p int, n int64, at time.Time) {
		rows = append(rows, invRow{prod: p, units: n, u: event.InventoryUpdate{
			Type: typ, SKU: w.products[p].ID, Name: w.products[p].Name, Quantity: strconv.FormatInt(n, 10), Time: at,
		}})
	}
	if d == 0 {
		for p := range w.products {
			info(p, t0)
			units(event.StockReport, p, m.stock.onHand[p], t0)
		}
	}
	for p := range w.products {
		for _, at := range w.products[p].priceFrom[1:] {
			if !at.Before(t0) && at.Before(t0.Add(24*time.Hour)) {
				info(p, at)
			}
		}
	}
	s := m.stock
	morning := func() {
		for p := range w.products {
			if s.onHand[p] < s.reorder[p] {
				n := s.target[p] - s.onHand[p]
				s.onHand[p] += n
				units(event.Restock, p, n, t0.Add(restockAt))
			}
		}
	}
	restocked := false
	for _, x := range sales {
		if !restocked && x.t.Sub(t0) >= restockAt {
			morning()
			restocked = true
		}
		if s.onHand[x.prod]+x.units < 0 {
			n := s.target[x.prod] - s.onHand[x.prod] - x.units
			s.onHand[x.prod] += n
			units(event.Restock, x.prod, n, x.t)
		}
		s.onHand[x.prod] += x.units
	}
	if !restocked {
		morning()
	}
	for p := range w.products {
		units(event.StockReport, p, s.onHand[p], t0.Add(closingAt))
	}
	slices.SortStableFunc(rows, func(a, b invRow) int { return a.u.Time.Compare(b.u.Time) })
	return m.dirtyInventory(d, rows)
}

// dirtyInventory numbers the rows, makes some of them messy (still cleanable), gives some stock
// reports negative units, and appends duplicates of some good rows at the end of the file.
func (m *merger) dirtyInventory(d int, rows []invRow) []invRow {
	r := newRand(m.w.cfg.Seed, streamInventory+uint64(d))
	rates := &m.w.cfg.Dirt
	date := m.w.day(d).Format("20060102")
	var dups []invRow
	for i := range rows {
		row := &rows[i]
		u := &row.u
		u.EventID = fmt.Sprintf("i%s-%06d", date, i+1)
		if u.Type == event.StockReport && r.Float64() < rates.InvNegativeStock {
			row.defect = defectNegativeStock
			u.Quantity = "-" + strconv.Itoa(1+r.IntN(50))
		}
		if r.Float64() < rates.InvMessySKU {
			u.SKU = messySKU(r, u.SKU)
		}
		if u.Price != "" && r.Float64() < rates.InvMessyPrice {
			u.Price = messyPrice(u.Price)
		}
		if u.Cost != "" && r.Float64() < rates.InvMessyPrice {
			u.Cost = messyPrice(u.Cost)
		}
		if u.Category != "" && r.Float64() < rates.InvMessyCategory {
			u.Category = messyCategory(r, u.Category)
		}
		if row.defect == defectNone && u.Quantity != "" && r.Float64() < rates.InvMessyQuantity {
			u.Quantity += []string{" pcs", "pcs", " units"}[r.IntN(3)]
		}
		if row.defect == defectNone && r.Float64() < rates.InvDuplicate {
			dup := *row
			dup.dup = true
			dups = append(dups, dup)
		}
	}
	return append(rows, dups...)
}

// messySKU varies case and surrounding spaces; standardization is trim + upper case.
func messySKU(r *rand.Rand, sku string) string {
	switch r.IntN(4) {
	case 0:
		return strings.ToLower(sku)
	case 1:
		return " " + sku + " "
	case 2:
		return " " + strings.ToLower(sku) + " "
	default:
		return strings.ToLower(sku) + "  "
	}
}

// messyPrice writes a plain decimal as a dollar amount with thousands separators ("1299.00" →
// "$1,299.00"); standardization drops "$", "," and spaces.
func messyPrice(p string) string {
	whole, frac, _ := strings.Cut(p, ".")
	var b strings.Builder
	b.WriteByte('$')
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// messyCategory writes one of the variants the standardization rule in docs/formats.md undoes:
// case, "&" spelled "and", spaces around "&" dropped or doubled.
func messyCategory(r *rand.Rand, c string) string {
	switch r.IntN(5) {
	case 0:
		return strings.ToLower(c)
	case 1:
		return strings.ToUpper(strings.ReplaceAll(c, " & ", "&"))
	case 2:
		return strings.ToLower(strings.ReplaceAll(c, "&", "and"))
	case 3:
		return strings.ReplaceAll(c, "&", "and")
	default:
		return "  " + strings.ReplaceAll(c, " ", "  ") + " "
	}
}

// invRecord is the CSV record of an inventory row (header: inventoryHeader).
func invRecord(row *invRow) []string {
	u := &row.u
	return []string{u.EventID, string(u.Type), u.SKU, u.Name, u.Category, u.Price, u.Cost, u.Quantity, u.Time.Format(time.RFC3339)}
}

var inventoryHeader = []string{"event_id", "type", "sku", "name", "category", "price", "cost", "quantity", "time"}
