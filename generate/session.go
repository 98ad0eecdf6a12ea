package generate

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shopease/shopease/event"
)

// maxSession bounds the length of a session including its purchase, so a session that starts at
// least maxSession before midnight ends on its own day.
const maxSession = 30 * time.Minute

// currency of every generated price.
const currency = "GBP"

// session appends to acts the clickstream of one session of user u starting at t0, and to lines
// the purchase lines of its order (if it buys; orderID is called only then). Event ids are left
// empty: the caller numbers events in time order. Lines carry their order id and ordinal line id.
func (w *world) session(r *rand.Rand, u int, t0 time.Time, sessionID string, orderID func() string,
	acts []event.Activity, lines []event.TransactionLine) ([]event.Activity, []event.TransactionLine) {
	user := w.users[u]
	ref := referrers[r.IntN(len(referrers))]
	t := t0
	add := func(typ event.ActivityType, product, page, query string) {
		acts = append(acts, event.Activity{
			UserID: user, SessionID: sessionID, Type: typ, ProductID: product,
			Page: page, Referrer: ref, Query: query, Time: t,
		})
		t = t.Add(time.Duration(5+r.IntN(86)) * time.Second)
	}

	first := w.pickProduct(r)
	landing := "/"
	if r.IntN(2) == 0 {
		landing = categoryPages[w.products[first].Category]
	}
	add(event.PageView, "", landing, "")
	for range r.IntN(3) {
		add(event.PageView, "", categoryPages[r.IntN(len(Categories))], "")
	}

	var viewed []int
	nViews := 1 + r.IntN(5)
	for i := range nViews {
		p := first
		if i > 0 {
			p = w.pickProduct(r)
		}
		add(event.ProductView, w.products[p].ID, w.products[p].Page, "")
		if !contains(viewed, p) {
			viewed = append(viewed, p)
		}
		if i == 0 && r.IntN(10) < 3 {
			words := categoryWords[w.products[p].Category]
			add(event.Search, "", "/search", words[r.IntN(len(words))])
		}
	}

	var cart []int
	for _, p := range viewed {
		if r.IntN(10) < 3 {
			add(event.AddToCart, w.products[p].ID, w.products[p].Page, "")
			cart = append(cart, p)
		}
	}
	if len(cart) > 0 && r.IntN(100) < 15 {
		i := r.IntN(len(cart))
		add(event.RemoveFromCart, w.products[cart[i]].ID, "/cart", "")
		cart = append(cart[:i], cart[i+1:]...)
	}
	if len(cart) == 0 || r.IntN(100) >= 65 {
		return acts, lines
	}
	checkout := t
	add(event.CheckoutStart, "", "/checkout", "")
	if r.IntN(100) >= 80 {
		return acts, lines
	}
	at := checkout.Add(time.Duration(10+r.IntN(111)) * time.Second)
	order := orderID()
	for i, p := range cart {
		prod := &w.products[p]
		lines = append(lines, event.TransactionLine{
			LineID: order + "-" + itoa(i+1), OrderID: order, Type: event.Purchase, UserID: user,
			ProductID: prod.ID, Description: prod.Name, Quantity: quantity(r),
			UnitPrice: prod.priceAt(at), Currency: currency, Country: w.country[u], Time: at,
		})
	}
	return acts, lines
}

// quantity draws the units of a purchase line: mostly 1, sometimes a few.
func quantity(r *rand.Rand) int64 {
	switch x := r.IntN(100); {
	case x < 70:
		return 1
	case x < 90:
		return 2
	default:
		return int64(3 + r.IntN(4))
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// categoryPages are the landing pages of the categories, by index.
var categoryPages = func() []string {
	p := make([]string, len(Categories))
	for i, c := range Categories {
		p[i] = "/c/" + slug(c)
	}
	return p
}()

// slug turns a category name into a URL path segment ("Home & Kitchen" → "home-kitchen").
func slug(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "&", " "))
	return strings.Join(strings.Fields(s), "-")
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}
