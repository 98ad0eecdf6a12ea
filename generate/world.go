package generate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/shopease/shopease/event"
)

// Categories are the canonical category names. Each is a fixed point of the standardization rule in
// docs/formats.md (lower-case, "&" and "and" unified, spaces collapsed, then title case with "&"),
// so a processor recovers them from any variant the generator writes without a lookup table.
var Categories = []string{
	"Home & Kitchen", "Toys & Games", "Sports & Outdoors", "Electronics", "Books",
	"Clothing", "Beauty & Personal Care", "Garden", "Office Supplies",
}

// categoryWords give each category product nouns (and search queries).
var categoryWords = [][]string{
	{"mug", "teapot", "lamp", "cushion", "candle", "kettle"},
	{"puzzle", "kite", "robot", "board game", "yo-yo"},
	{"ball", "tent", "bottle", "yoga mat", "racket"},
	{"headphones", "charger", "speaker", "cable", "mouse"},
	{"novel", "cookbook", "atlas", "notebook"},
	{"scarf", "t-shirt", "hat", "socks", "jacket"},
	{"soap", "lotion", "brush", "perfume"},
	{"trowel", "seeds", "planter", "hose"},
	{"stapler", "pen set", "folder", "desk tray"},
}

var colours = []string{"blue", "red", "green", "white", "black", "vintage", "large", "small"}

var countries = []string{"United Kingdom", "United Kingdom", "United Kingdom", "France", "Germany", "Netherlands", "Spain", "EIRE"}

var referrers = []string{"direct", "search", "search", "email", "social", "ads"}

// product is one catalogue entry with its price history.
type product struct {
	ID       string
	Page     string // "/p/" + ID, built once: every product view names it
	Name     string
	Category int
	Cost     event.Money
	// prices[i] holds from priceFrom[i] (inclusive); priceFrom[0] is the start of the history.
	prices    []event.Money
	priceFrom []time.Time
}

// priceAt returns the price in force at t.
func (p *product) priceAt(t time.Time) event.Money {
	i := sort.Search(len(p.priceFrom), func(i int) bool { return p.priceFrom[i].After(t) })
	return p.prices[i-1]
}

// world is everything fixed before the first day: catalogue, users, price changes, spike minutes.
// It is read-only once built, so day workers share it.
type world struct {
	cfg      Config
	start    time.Time
	end      time.Time
	products []product
	users    []string
	country  []string // per user
	popCum   []float64
	spikes   []time.Time // sorted minute starts
	sessions int         // mean ordinary sessions per day
}

// streams of randomness: every consumer has its own PCG stream so that changing one part of the
// generator leaves the others' output unchanged, and days never share a stream.
const (
	streamWorld     = 1 << 40
	streamDay       = 2 << 40
	streamInventory = 3 << 40
	streamSim       = 4 << 40
)

func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

func newWorld(cfg Config) *world {
	r := newRand(cfg.Seed, streamWorld)
	w := &world{
		cfg:      cfg,
		start:    cfg.Start,
		end:      cfg.Start.AddDate(0, 0, cfg.Days),
		sessions: cfg.sessionsPerDay(),
	}
	idWidth := max(4, len(fmt.Sprint(cfg.Products-1)))
	w.products = make([]product, cfg.Products)
	for i := range w.products {
		cat := r.IntN(len(Categories))
		words := categoryWords[cat]
		name := fmt.Sprintf("%s, %s", cap1(words[r.IntN(len(words))]), colours[r.IntN(len(colours))])
		// Log-uniform prices from 1 to 1500 so a few are above 1,000 (the "$1,299.00" case).
		price := event.Money(math.Round(math.Exp(r.Float64()*math.Log(1500))*100) * 10)
		price = max(price, 990)
		cost := event.Money(math.Round(float64(price)*(0.4+0.4*r.Float64())/10) * 10)
		cost = min(max(cost, 10), price-10)
		w.products[i] = product{
			ID: fmt.Sprintf("P%0*d", idWidth, i), Name: name, Category: cat, Cost: cost,
			prices: []event.Money{price}, priceFrom: []time.Time{w.start},
		}
	}
	for i := range w.products {
		w.products[i].Page = "/p/" + w.products[i].ID
	}
	w.planPriceChanges(r)
	w.users = make([]string, cfg.Users)
	w.country = make([]string, cfg.Users)
	uw := max(6, len(fmt.Sprint(cfg.Users-1)))
	for i := range w.users {
		w.users[i] = fmt.Sprintf("u%0*d", uw, i)
		w.country[i] = countries[r.IntN(len(countries))]
	}
	// Zipf-like popularity over a shuffled catalogue: top products are clear, ties are rare.
	perm := r.Perm(len(w.products))
	w.popCum = make([]float64, len(w.products))
	sum := 0.0
	for rank, p := range perm {
		w.popCum[p] = 1 / math.Pow(float64(rank+1), 0.9)
	}
	for i, v := range w.popCum {
		sum += v
		w.popCum[i] = sum
	}
	w.planSpikes(r)
	return w
}

// planPriceChanges gives about one product in three a price change, at a whole minute after day one.
func (w *world) planPriceChanges(r *rand.Rand) {
	if w.cfg.Days < 2 {
		return
	}
	for i := range w.products {
		p := &w.products[i]
		if r.IntN(3) != 0 {
			continue
		}
		at := w.start.Add(24*time.Hour + time.Duration(r.Int64N(int64(w.cfg.Days-1)*24*60))*time.Minute)
		old := p.prices[0]
		np := event.Money(math.Round(float64(old)*(0.85+0.35*r.Float64())/10) * 10)
		np = max(np, p.Cost+10)
		if np == old {
			np += 10
		}
		p.prices = append(p.prices, np)
		p.priceFrom = append(p.priceFrom, at)
	}
}

// planSpikes picks distinct spike minutes after the first hour (the detectors' warm-up), avoiding
// the last five minutes of a day, where the closing stock reports are written.
func (w *world) planSpikes(r *rand.Rand) {
	total := w.cfg.Days*24*60 - 60
	seen := map[int]bool{}
	for len(w.spikes) < w.cfg.Spikes {
		m := 60 + r.IntN(total)
		if m%(24*60) >= 24*60-5 || seen[m] || seen[m-1] || seen[m+1] {
			continue
		}
		seen[m] = true
		w.spikes = append(w.spikes, w.start.Add(time.Duration(m)*time.Minute))
	}
	slices.SortFunc(w.spikes, func(a, b time.Time) int { return a.Compare(b) })
}

// pickProduct draws a product index by popularity.
func (w *world) pickProduct(r *rand.Rand) int {
	x := r.Float64() * w.popCum[len(w.popCum)-1]
	i, _ := slices.BinarySearch(w.popCum, x)
	return min(i, len(w.popCum)-1)
}

func cap1(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

// day returns the midnight starting day index d.
func (w *world) day(d int) time.Time { return w.start.AddDate(0, 0, d) }
