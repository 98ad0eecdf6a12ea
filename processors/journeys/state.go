package journeys

import (
	"slices"
	"sort"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// Bound is how far the user's activity must have moved past a purchase, in event time, before its
// journey is emitted: a purchase at T waits until an activity event later than T + Bound has
// arrived. It equals the session gap, so by then the session that holds the purchase is closed;
// activity of that session arriving later still (out of order by more than Bound) is counted in
// User.LateActivity and not in the journey.
const Bound = SessionGap

// SessionGap is the inactivity that ends a session when events carry no session id.
const SessionGap = 30 * time.Minute

// Keep is how much event time of activity a user keeps before its newest event (and before its
// oldest pending purchase): sessions longer than Keep are cut to their last Keep.
const Keep = 12 * time.Hour

// DoneKept is how long, in event time, a released order is remembered so that its late lines are
// recognized (and its journey re-emitted on a redelivery).
const DoneKept = 7 * 24 * time.Hour

// maxEvents caps the activity a user keeps, whatever Keep says (a bot's clickstream).
const maxEvents = 5000

// Event is the part of an activity event a journey needs.
type Event struct {
	At        time.Time          `json:"at"`
	ID        string             `json:"id"`
	Type      event.ActivityType `json:"type"`
	ProductID string             `json:"product_id,omitempty"`
	SessionID string             `json:"session_id,omitempty"`
	Referrer  string             `json:"referrer,omitempty"`
}

// Purchase is one order of the user (its purchase lines) waiting for its journey.
type Purchase struct {
	OrderID  string      `json:"order_id"`
	At       time.Time   `json:"at"` // the earliest line's event time
	Products []string    `json:"products"`
	Lines    int64       `json:"lines"`
	Units    int64       `json:"units"`
	Amount   event.Money `json:"amount"`
}

// Done is a released order: its journey, and the origin of the record that released it.
type Done struct {
	Journey    Journey `json:"journey"`
	ReleasedBy string  `json:"released_by"`
}

// User is the journeys table value (key: pseudonymous user id).
type User struct {
	Fence fence.Vector `json:"fence,omitempty"`
	// Events is the recent activity, in (time, id) order.
	Events []Event `json:"events,omitempty"`
	// ActivityMark is the newest activity event time seen: the user's activity watermark.
	ActivityMark time.Time  `json:"activity_mark"`
	Pending      []Purchase `json:"pending,omitempty"`
	Done         []Done     `json:"done,omitempty"`
	// LateActivity counts activity older than a journey already emitted from its time span;
	// LateLines counts purchase lines of orders already emitted.
	LateActivity int64 `json:"late_activity,omitempty"`
	LateLines    int64 `json:"late_lines,omitempty"`
}

// AddActivity adds an activity event.
func (u *User) AddActivity(a *event.Activity) {
	e := Event{At: a.Time.UTC(), ID: a.EventID, Type: a.Type, ProductID: a.ProductID, SessionID: a.SessionID, Referrer: a.Referrer}
	for _, d := range u.Done {
		if !e.At.After(d.Journey.PurchaseTime) && !e.At.Before(d.Journey.PurchaseTime.Add(-Keep)) {
			u.LateActivity++
			break
		}
	}
	i := sort.Search(len(u.Events), func(i int) bool { return eventLess(&e, &u.Events[i]) })
	u.Events = slices.Insert(u.Events, i, e)
	if e.At.After(u.ActivityMark) {
		u.ActivityMark = e.At
	}
}

func eventLess(a, b *Event) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return a.ID < b.ID
}

// AddPurchaseLine adds a purchase line to its pending order; a line of an order already released
// is counted late.
func (u *User) AddPurchaseLine(l *event.TransactionLine) error {
	for _, d := range u.Done {
		if d.Journey.OrderID == l.OrderID {
			u.LateLines++
			return nil
		}
	}
	amount, err := l.Amount()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(u.Pending, func(p Purchase) bool { return p.OrderID == l.OrderID })
	if i < 0 {
		u.Pending = append(u.Pending, Purchase{OrderID: l.OrderID, At: l.Time.UTC()})
		i = len(u.Pending) - 1
	}
	p := &u.Pending[i]
	if l.Time.Before(p.At) {
		p.At = l.Time.UTC()
	}
	if !slices.Contains(p.Products, l.ProductID) {
		p.Products = append(p.Products, l.ProductID)
		slices.Sort(p.Products)
	}
	p.Lines++
	p.Units += l.Quantity
	p.Amount += amount
	slices.SortFunc(u.Pending, func(a, b Purchase) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return compareStrings(a.OrderID, b.OrderID)
	})
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Release builds the journeys of the pending purchases that the activity watermark has passed by
// more than Bound, in purchase order, remembers them as Done (released by origin), and prunes
// what is no longer needed.
func (u *User) Release(user string, origin string) []Journey {
	var out []Journey
	keep := u.Pending[:0]
	for _, p := range u.Pending {
		if u.ActivityMark.After(p.At.Add(Bound)) {
			j := u.journey(user, &p)
			out = append(out, j)
			u.Done = append(u.Done, Done{Journey: j, ReleasedBy: origin})
			continue
		}
		keep = append(keep, p)
	}
	u.Pending = keep
	u.prune()
	return out
}

// Released returns the journeys released by the record of origin (for re-emission when that
// record is delivered again).
func (u *User) Released(origin string) []Journey {
	var out []Journey
	for _, d := range u.Done {
		if d.ReleasedBy == origin {
			out = append(out, d.Journey)
		}
	}
	return out
}

// prune drops activity older than Keep before the watermark (and before the oldest pending
// purchase), and released orders older than DoneKept.
func (u *User) prune() {
	cut := u.ActivityMark.Add(-Keep)
	if len(u.Pending) > 0 && u.Pending[0].At.Add(-Keep).Before(cut) {
		cut = u.Pending[0].At.Add(-Keep)
	}
	i := sort.Search(len(u.Events), func(i int) bool { return !u.Events[i].At.Before(cut) })
	if n := len(u.Events) - i; n > maxEvents {
		i = len(u.Events) - maxEvents
	}
	u.Events = slices.Delete(u.Events, 0, i)
	doneCut := u.ActivityMark.Add(-DoneKept)
	u.Done = slices.DeleteFunc(u.Done, func(d Done) bool { return d.Journey.PurchaseTime.Before(doneCut) })
}
