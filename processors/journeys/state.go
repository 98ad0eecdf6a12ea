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

// Slack is how far past a purchase's due time (purchase + Bound) the activity watermark of the
// user's partition must be before the purchase is flushed without activity of its own user: the
// activity of one raw partition arrives in event-time order up to this much disorder.
const Slack = 5 * time.Minute

// ClockStep is how much the activity time of one source must advance before the processor tells
// the partition's schedule: at most one loop message per source and partition per step of event
// time, so the schedule costs little beside the events, and a flush comes at most one step late.
const ClockStep = 10 * time.Minute

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
	ActivityMark time.Time `json:"activity_mark"`
	// FlushMark is the activity time of the user's partition, less Slack, when the schedule last
	// flushed the user: it releases pending purchases as ActivityMark does.
	FlushMark time.Time  `json:"flush_mark,omitempty"`
	Pending   []Purchase `json:"pending,omitempty"`
	Done      []Done     `json:"done,omitempty"`
	// LateActivity counts activity older than a journey already emitted from its time span;
	// LateLines counts purchase lines of orders already emitted.
	LateActivity int64 `json:"late_activity,omitempty"`
	LateLines    int64 `json:"late_lines,omitempty"`

	// Clocks and Timers are used by the schedule keys only (ScheduleKey), never by a user: the
	// activity time reported by each raw activity partition (source) feeding this partition, and
	// the purchases waiting for the watermark.
	Clocks []fence.Mark `json:"clocks,omitempty"`
	Timers []Timer      `json:"timers,omitempty"`
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

// Timer is a pending purchase in a partition's schedule: flush User once Clock is past Due.
type Timer struct {
	User string    `json:"user"`
	Due  time.Time `json:"due"` // purchase time + Bound + Slack
}

// Schedule adds a timer (once) and returns the users whose timers the watermark has passed,
// removing them.
func (u *User) Schedule(t *Timer, watermark time.Time) []string {
	if t != nil && !slices.Contains(u.Timers, *t) {
		u.Timers = append(u.Timers, *t)
	}
	var due []string
	u.Timers = slices.DeleteFunc(u.Timers, func(t Timer) bool {
		if watermark.After(t.Due) {
			if !slices.Contains(due, t.User) {
				due = append(due, t.User)
			}
			return true
		}
		return false
	})
	return due
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
// It returns the order's purchase time when that is new (a new order, or an earlier line), so
// that the caller schedules a flush for it.
func (u *User) AddPurchaseLine(l *event.TransactionLine) (time.Time, error) {
	for _, d := range u.Done {
		if d.Journey.OrderID == l.OrderID {
			u.LateLines++
			return time.Time{}, nil
		}
	}
	amount, err := l.Amount()
	if err != nil {
		return time.Time{}, err
	}
	var scheduled time.Time
	i := slices.IndexFunc(u.Pending, func(p Purchase) bool { return p.OrderID == l.OrderID })
	if i < 0 {
		u.Pending = append(u.Pending, Purchase{OrderID: l.OrderID, At: l.Time.UTC()})
		i = len(u.Pending) - 1
		scheduled = l.Time.UTC()
	}
	p := &u.Pending[i]
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

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Release builds the journeys of the pending purchases that the activity watermark (or the
// partition's, via FlushMark) has passed by more than Bound, in purchase order, remembers them as Done (released by origin), and prunes
// what is no longer needed.
func (u *User) Release(user string, origin string) []Journey {
	var out []Journey
	keep := u.Pending[:0]
	mark := u.ActivityMark
	if u.FlushMark.After(mark) {
		mark = u.FlushMark
	}
	for _, p := range u.Pending {
		if mark.After(p.At.Add(Bound)) {
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
