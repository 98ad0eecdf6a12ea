package journeys

import (
	"slices"

	"github.com/shopease/shopease/processors/fence"
)

// A schedule's flushes survive a SIGKILL (doc.go, Exactness). goka writes the schedule's value
// inside the callback and its loop messages later, so after a SIGKILL the local value can show a
// timer removed whose flush never reached Kafka; the signal that fired it is delivered again and
// finds nothing ready. So a timer that fires stays in the schedule as fired (Due zero: a timer
// is otherwise created by its due signal only, so has a Due) until its user confirms the release
// (SignalReleased, sent on every flush), and a signal that changes nothing in the schedule — a
// redelivery, or a source's first report after a restart — sends the flushes of the fired timers
// it concerns again — once per process until confirmed (processor.resend). A user keeps one
// copy of a journey per order, so a flush too many costs an identical emit. Once every release
// is confirmed the schedule holds what it held before.

// fired reports whether t has fired and waits for its user to confirm the release.
func (t Timer) fired() bool { return t.Due.IsZero() }

// markFired keeps the timers that just fired (Schedule removed them) as fired, in the schedule's
// (order, user) order.
func (u *User) markFired(ready []Timer) {
	for _, r := range ready {
		i, found := slices.BinarySearchFunc(u.Timers, r, compareTimers)
		if found {
			continue // cannot happen: Schedule removed it
		}
		// Passed as it fired: the user's activity passing the purchase after a flush by the
		// watermark then still changes the timer, and only a passed signal delivered again
		// finds nothing to do.
		u.Timers = slices.Insert(u.Timers, i, Timer{User: r.User, Order: r.Order, Passed: r.Passed})
	}
}

// confirm drops the fired timer of user's order: its user has released it.
func (u *User) confirm(user, order string) {
	u.Timers = slices.DeleteFunc(u.Timers, func(t Timer) bool { return t.fired() && t.User == user && t.Order == order })
}

// firedFor returns the fired timers a signal that changed nothing concerns: its own order's for
// a due or passed signal, every one for a source's report.
func (u *User) firedFor(s *Signal) []Timer {
	var out []Timer
	for _, t := range u.Timers {
		if t.fired() && (s.Kind != SignalDue && s.Kind != SignalPassed || t.User == s.User && t.Order == s.Order) {
			out = append(out, t)
		}
	}
	return out
}

// scheduleState is what a schedule signal can change: to tell a signal that changed nothing.
type scheduleState struct {
	u        *User
	clocks   []fence.Mark
	orders   []OrderMark
	ends     []End
	timer    Timer
	hasTimer bool
}

// stateOf snapshots the marks and the timer of (user, order) before a signal is applied.
func stateOf(u *User, user, order string) scheduleState {
	st := scheduleState{u: u, clocks: slices.Clone(u.Clocks), orders: slices.Clone(u.Orders), ends: slices.Clone(u.Ends)}
	if i := slices.IndexFunc(u.Timers, func(t Timer) bool { return t.User == user && t.Order == order }); i >= 0 {
		st.timer, st.hasTimer = u.Timers[i], true
	}
	return st
}

// unchanged reports whether the signal changed neither a mark nor its timer, and fired nothing.
func (st scheduleState) unchanged(user, order string, ready []Timer) bool {
	u := st.u
	if len(ready) > 0 || !slices.Equal(u.Clocks, st.clocks) || !slices.Equal(u.Orders, st.orders) || !slices.Equal(u.Ends, st.ends) {
		return false
	}
	i := slices.IndexFunc(u.Timers, func(t Timer) bool { return t.User == user && t.Order == order })
	if i < 0 {
		return !st.hasTimer
	}
	return st.hasTimer && u.Timers[i].Due.Equal(st.timer.Due) && u.Timers[i].Passed == st.timer.Passed
}

func compareTimers(a, b Timer) int {
	if c := compareStrings(a.Order, b.Order); c != 0 {
		return c
	}
	return compareStrings(a.User, b.User)
}
