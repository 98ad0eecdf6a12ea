package journeys

import (
	"errors"
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
// the LateActivity metric and not in the journey.
const Bound = SessionGap

// SessionGap is the inactivity that ends a session when events carry no session id.
const SessionGap = 30 * time.Minute

// Keep is how much event time of activity before a purchase its journey sees, and how much a user
// keeps before each pending purchase (prune). It depends on those alone, never on what else has
// arrived (sessions longer than Keep are cut to their last Keep).
const Keep = 7 * 24 * time.Hour

// Retain is how much activity a user keeps behind its newest event (prune), so that the events a
// journey sees do not depend on when its purchase arrives — as long as it arrives before the
// user's activity is Retain past it. A history replay sends all of a dataset's files before the
// next one's, activity before transactions: with activity kept for only Keep, a purchase older
// than Keep behind the user's last activity found its session gone when the processor had read
// all the activity first, and kept it when it read the two inputs interleaved (issue 11 case 1:
// 462 of generate.Small's journeys had an empty session after a SIGKILLed, rate-limited replay
// and their session in an undisturbed one). A year covers a replayed year of history; maxEvents
// still caps a user.
const Retain = 366 * 24 * time.Hour

// DoneKept is how long, in event time, a released order is remembered so that its late lines are
// recognized (and its journey re-emitted on a redelivery).
const DoneKept = 7 * 24 * time.Hour

// DoneMin is how many released orders (the newest purchases) a user remembers whatever DoneKept
// says. A history replay sends a user's activity days ahead of their purchases, so an order was
// often older than DoneKept behind the user's activity the moment it was released: forgotten in
// the same write, its flush delivered again after a SIGKILL (the journey's emit lost, the local
// table ahead) found nothing to emit again. The newest releases are those a redelivered flush
// names; the count depends on the released orders alone, so the value still does not depend on
// arrival.
const DoneMin = 8

// Slack is how far past a purchase's due time (purchase + Bound) the activity watermark of the
// user's partition must be before the purchase is flushed without activity of its own user: the
// activity of one raw partition arrives in event-time order up to this much disorder.
const Slack = 5 * time.Minute

// ClockStep is how much the activity time of one source must advance before the processor tells
// the partition's schedule: at most one loop message per source and partition per step of event
// time, so the schedule costs little beside the events, and a flush comes at most one step late.
// A source reports its time rounded down to a multiple of ClockStep, so the clocks a schedule
// ends with depend only on the events, not on which event happened to report after a restart.
const ClockStep = 10 * time.Minute

// maxEvents caps the activity a user keeps, whatever Retain says (a bot's clickstream).
const maxEvents = 5000

// Event is the part of an activity event a journey needs (ProductID: of a product view only).
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
	OrderID string    `json:"order_id"`
	At      time.Time `json:"at"` // the earliest line's event time
	// Origin is the smallest raw origin of the order's lines: the origin its journey is stamped
	// with, whichever record releases it, so that a journey is the same record in every run.
	Origin   string      `json:"origin"`
	Products []string    `json:"products"`
	Lines    int64       `json:"lines"`
	Units    int64       `json:"units"`
	Amount   event.Money `json:"amount"`
}

// Done is a released order: its journey, and the origin it is stamped with (Purchase.Origin).
type Done struct {
	Journey Journey `json:"journey"`
	Origin  string  `json:"origin"`
}

// User is the journeys table value (key: pseudonymous user id).
type User struct {
	Fence fence.Vector `json:"fence,omitempty"`
	// Events is the recent activity, in (time, id) order.
	Events []Event `json:"events,omitempty"`
	// ActivityMark is the newest activity event time seen: the user's activity watermark.
	ActivityMark time.Time  `json:"activity_mark"`
	Pending      []Purchase `json:"pending,omitempty"` // in (time, order id) order
	Done         []Done     `json:"done,omitempty"`    // in (purchase time, order id) order

	// Clocks, Orders, Ends and Timers are used by the schedule keys only (ScheduleKey), never by
	// a user: the activity time reported by each raw activity partition (source) feeding this
	// partition, the greatest purchase order id reported by each raw transactions partition, the
	// sources' end-of-input markers (end.go), and the purchases waiting for them.
	Clocks []fence.Mark `json:"clocks,omitempty"`
	Orders []OrderMark  `json:"orders,omitempty"`
	Ends   []End        `json:"ends,omitempty"`
	Timers []Timer      `json:"timers,omitempty"`
}

// OrderMark is the greatest purchase order id a transaction source has delivered to a partition.
type OrderMark struct {
	Source string `json:"s"`
	Order  string `json:"o"`
}

// TickOrder records that source has delivered order (marks only move forward).
func (u *User) TickOrder(source, order string) {
	for i := range u.Orders {
		if u.Orders[i].Source == source {
			u.Orders[i].Order = max(u.Orders[i].Order, order)
			return
		}
	}
	u.Orders = append(u.Orders, OrderMark{Source: source, Order: order})
	slices.SortFunc(u.Orders, func(a, b OrderMark) int { return compareStrings(a.Source, b.Source) })
}

// OrdersMark is the partition's order watermark once all sources have reported: the smallest of
// their greatest order ids. Each transaction source delivers purchase orders in order-id order
// (files are replayed in order, an order's lines are consecutive rows), so every order below the
// mark is complete in this partition. "" while fewer than sources have reported.
func (u *User) OrdersMark(sources int) string {
	if sources <= 0 || len(u.Orders) < sources {
		return ""
	}
	low := u.Orders[0].Order
	for _, o := range u.Orders[1:] {
		low = min(low, o.Order)
	}
	return low
}

// Tick records that source has reached at (clocks only move forward).
func (u *User) Tick(source string, at time.Time) {
	ns := at.UnixNano()
	for i := range u.Clocks {
		if u.Clocks[i].Source == source {
			u.Clocks[i].Offset = max(u.Clocks[i].Offset, ns)
			return
		}
	}
	u.Clocks = append(u.Clocks, fence.Mark{Source: source, Offset: ns})
	slices.SortFunc(u.Clocks, func(a, b fence.Mark) int { return compareStrings(a.Source, b.Source) })
}

// Watermark is the partition's activity watermark once all sources have reported: the oldest of
// their clocks. A user's activity comes from one raw partition, in event-time order, but the
// clean partition interleaves all raw partitions at their own pace, so only the slowest source
// bounds what may still arrive. Zero while fewer than sources have reported.
func (u *User) Watermark(sources int) time.Time {
	if sources <= 0 || len(u.Clocks) < sources {
		return time.Time{}
	}
	low := u.Clocks[0].Offset
	for _, c := range u.Clocks[1:] {
		low = min(low, c.Offset)
	}
	return time.Unix(0, low).UTC()
}

// Timer is a pending purchase in a partition's schedule, one per (User, Order): the schedule
// flushes User for Order once the order mark has passed Order (every line has arrived) and the
// user's activity has passed the purchase by Bound (Passed, told by the user) or the partition's
// activity watermark has passed Due.
type Timer struct {
	User   string    `json:"user"`
	Order  string    `json:"order"`
	Due    time.Time `json:"due"` // purchase time + Bound + Slack
	Passed bool      `json:"passed,omitempty"`
}

// Schedule adds or updates a timer (the earliest Due; Passed once told stays so) and returns the
// timers now ready, removing them. Each order is flushed once: its journey has one releasing
// record.
func (u *User) Schedule(t *Timer, watermark time.Time, orders string) []Timer {
	if t != nil {
		i := slices.IndexFunc(u.Timers, func(x Timer) bool { return x.User == t.User && x.Order == t.Order })
		switch {
		case i < 0:
			// A timer is created by its due signal only: a passed signal delivered again after
			// the timer fired finds none and must not leave one behind. Timers are kept in
			// (order, user) order, not arrival order.
			if !t.Due.IsZero() {
				u.Timers = append(u.Timers, *t)
				slices.SortFunc(u.Timers, func(a, b Timer) int {
					if c := compareStrings(a.Order, b.Order); c != 0 {
						return c
					}
					return compareStrings(a.User, b.User)
				})
			}
		default:
			if !t.Due.IsZero() && (u.Timers[i].Due.IsZero() || t.Due.Before(u.Timers[i].Due)) {
				u.Timers[i].Due = t.Due
			}
			u.Timers[i].Passed = u.Timers[i].Passed || t.Passed
		}
	}
	var ready []Timer
	u.Timers = slices.DeleteFunc(u.Timers, func(t Timer) bool {
		if orders <= t.Order || t.Due.IsZero() || !(t.Passed || watermark.After(t.Due)) {
			return false
		}
		ready = append(ready, t)
		return true
	})
	return ready
}

// AddActivity adds an activity event. It reports whether the event is late: older than a journey
// already emitted (a metric, not state: whether it came before or after the release depends on
// arrival).
func (u *User) AddActivity(a *event.Activity) (late bool) {
	e := Event{At: a.Time.UTC(), ID: a.EventID, Type: a.Type, SessionID: a.SessionID, Referrer: a.Referrer}
	if a.Type == event.ProductView {
		// A journey reads the product of product views only (Viewed); the value is written on
		// every event, so it keeps no more.
		e.ProductID = a.ProductID
	}
	i := sort.Search(len(u.Events), func(i int) bool { return eventLess(&e, &u.Events[i]) })
	if i > 0 && u.Events[i-1].At.Equal(e.At) && u.Events[i-1].ID == e.ID {
		// The same event again: a file replayed twice (--force, or replays that share no
		// manifest) puts it on the raw topic at a new offset, which no fence catches, and the
		// activity gateway is stateless. Counted twice it would inflate the journey's counts
		// (issue 11 case 7).
		return false
	}
	for _, d := range u.Done {
		if !e.At.After(d.Journey.PurchaseTime) && !e.At.Before(d.Journey.PurchaseTime.Add(-Keep)) {
			late = true
			break
		}
	}
	u.Events = slices.Insert(u.Events, i, e)
	if e.At.After(u.ActivityMark) {
		u.ActivityMark = e.At
	}
	return late
}

func eventLess(a, b *Event) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return a.ID < b.ID
}

// ErrLateLine is returned for a purchase line of an order whose journey was already emitted.
var ErrLateLine = errors.New("journeys: line of an order already released")

// AddPurchaseLine adds a purchase line of origin to its pending order; a line of an order already
// released returns ErrLateLine and changes nothing.
// It returns the order's purchase time when that is new (a new order, or an earlier line), so
// that the caller schedules a flush for it.
func (u *User) AddPurchaseLine(l *event.TransactionLine, origin fence.Origin) (time.Time, error) {
	for _, d := range u.Done {
		if d.Journey.OrderID == l.OrderID {
			return time.Time{}, ErrLateLine
		}
	}
	amount, err := l.Amount()
	if err != nil {
		return time.Time{}, err
	}
	var scheduled time.Time
	i := slices.IndexFunc(u.Pending, func(p Purchase) bool { return p.OrderID == l.OrderID })
	if i < 0 {
		u.Pending = append(u.Pending, Purchase{OrderID: l.OrderID, At: l.Time.UTC(), Origin: origin.String()})
		i = len(u.Pending) - 1
		scheduled = l.Time.UTC()
	}
	p := &u.Pending[i]
	if originLess(origin, p.Origin) {
		p.Origin = origin.String()
	}
	if l.Time.Before(p.At) {
		p.At = l.Time.UTC()
		scheduled = p.At
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
	return scheduled, nil
}

// originLess reports whether o orders before the origin s (topic, partition, offset); an s that
// does not parse orders last.
func originLess(o fence.Origin, s string) bool {
	b, err := fence.ParseOrigin(s)
	if err != nil {
		return true
	}
	if o.Topic != b.Topic {
		return o.Topic < b.Topic
	}
	if o.Partition != b.Partition {
		return o.Partition < b.Partition
	}
	return o.Offset < b.Offset
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

// Release builds the journeys of the listed orders still pending (a flush: the schedule has seen
// them complete and passed), in purchase order, remembers them as Done, and prunes what is no
// longer needed. It returns them, and the listed orders released before (a flush delivered
// again: the crash may have lost their emits). A journey depends on the inputs alone: by its
// flush every line of the order and every event at or before it has arrived (the bounds), and it
// is stamped with the order's own origin.
func (u *User) Release(user string, orders []string) (released, before []Done) {
	for _, d := range u.Done {
		if slices.Contains(orders, d.Journey.OrderID) {
			before = append(before, d)
		}
	}
	keep := u.Pending[:0]
	for _, p := range u.Pending {
		if slices.Contains(orders, p.OrderID) {
			released = append(released, Done{Journey: u.journey(user, &p), Origin: p.Origin})
			continue
		}
		keep = append(keep, p)
	}
	// Done in purchase order, not release order: the value must not tell which came first.
	u.Done = append(u.Done, released...)
	slices.SortFunc(u.Done, func(a, b Done) int {
		if c := a.Journey.PurchaseTime.Compare(b.Journey.PurchaseTime); c != 0 {
			return c
		}
		return compareStrings(a.Journey.OrderID, b.Journey.OrderID)
	})
	u.Pending = keep
	u.prune()
	return released, before
}

// Crossed returns the pending orders whose purchase time + Bound the user's activity passed on
// its way from mark to now (from the zero time: every pending order it has passed).
func (u *User) Crossed(mark, now time.Time) []Purchase {
	var out []Purchase
	for _, p := range u.Pending {
		if due := p.At.Add(Bound); now.After(due) && !mark.After(due) {
			out = append(out, p)
		}
	}
	return out
}

// prune drops activity older than Retain before the user's newest event and Keep before each
// pending purchase, and released orders older than DoneKept (but the DoneMin newest). A pending
// purchase keeps the Keep before it whenever its flush comes — during a replay the loop that
// carries the flush may lag the activity by days — so its journey does not depend on that lag;
// once released, the cut follows
// ActivityMark alone, which only moves forward, so what is kept in the end does not depend on the
// order records arrived in.
func (u *User) prune() {
	cut := u.ActivityMark.Add(-Retain)
	for _, p := range u.Pending {
		if c := p.At.Add(-Keep); c.Before(cut) {
			cut = c
		}
	}
	i := sort.Search(len(u.Events), func(i int) bool { return !u.Events[i].At.Before(cut) })
	if n := len(u.Events) - i; n > maxEvents {
		i = len(u.Events) - maxEvents
	}
	u.Events = slices.Delete(u.Events, 0, i)
	doneCut := u.ActivityMark.Add(-DoneKept)
	kept, newest := u.Done[:0], len(u.Done)-DoneMin // u.Done is in purchase order
	for j, d := range u.Done {
		if j >= newest || !d.Journey.PurchaseTime.Before(doneCut) {
			kept = append(kept, d)
		}
	}
	u.Done = kept
}
