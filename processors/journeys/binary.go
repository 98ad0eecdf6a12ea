package journeys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// The user value is read and written on every record of the user, and it holds the user's recent
// activity (Keep before the newest event and before each pending purchase), so its codec was most
// of the processor's CPU (BenchmarkStream's profile: 49% of the whole group's in UserCodec's JSON,
// growing with the history). It is stored in a compact binary form instead: a tag byte, then
// varints and length-prefixed strings. Events are stored as the difference from the previous one
// (time as seconds since it, id as the length of the prefix shared with it and the rest, session
// id and referrer as "the same" when they are), so an event costs a dozen bytes instead of ~150.
// Values written before (JSON, first byte '{') still decode.
const binUser = 'J'

// ErrBinary is returned by UserCodec.Decode for a value that is neither JSON nor a binary user
// value that decodes completely.
var ErrBinary = errors.New("journeys: bad binary user value")

// sameString stands for "the same string as the previous one of its field" in writer.same; any
// other string is written as its length + 1.
const sameString = 0

type writer struct{ b []byte }

func (w *writer) int(v int64) { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) uint(v int)  { w.b = binary.AppendUvarint(w.b, uint64(v)) }

func (w *writer) str(s string) {
	w.uint(len(s))
	w.b = append(w.b, s...)
}

// same writes s, or only that it equals prev.
func (w *writer) same(s, prev string) {
	if s == prev {
		w.uint(sameString)
		return
	}
	w.uint(len(s) + 1)
	w.b = append(w.b, s...)
}

// prefixed writes s as the length of the prefix it shares with prev and the rest: event ids
// numbered in time order share most of their bytes with the previous event's.
func (w *writer) prefixed(s, prev string) {
	n := 0
	for n < len(s) && n < len(prev) && s[n] == prev[n] {
		n++
	}
	w.uint(n)
	w.str(s[n:])
}

func (w *writer) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
		return
	}
	w.b = append(w.b, 0)
}

// time writes t as Unix seconds and nanoseconds: the zero time is a valid time too (Unix seconds
// of year 1), so it round-trips exactly.
func (w *writer) time(t time.Time) {
	w.int(t.Unix())
	w.uint(t.Nanosecond())
}

func (w *writer) strs(s []string) {
	w.uint(len(s))
	for _, v := range s {
		w.str(v)
	}
}

// reader reads a value. Its strings are substrings of s, one copy of the whole value, so that
// decoding allocates per list, not per string.
type reader struct {
	b   []byte
	s   string // a copy of the bytes the reader started on; b is the unread tail of those
	err error
}

func newReader(b []byte) *reader { return &reader{b: b, s: string(b)} }

func (r *reader) fail() { r.err = ErrBinary }

func (r *reader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// uint reads an unsigned varint that fits an int.
func (r *reader) uint() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > math.MaxInt32 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// count reads how many elements follow, each at least size bytes long: a larger count than the
// remaining bytes hold is corrupt, and must not size an allocation.
func (r *reader) count(size int) int {
	n := r.uint()
	if r.err != nil || n > len(r.b)/size {
		r.fail()
		return 0
	}
	return n
}

func (r *reader) bytes(n int) string {
	if r.err != nil || n > len(r.b) {
		r.fail()
		return ""
	}
	off := len(r.s) - len(r.b)
	r.b = r.b[n:]
	return r.s[off : off+n]
}

func (r *reader) str() string { return r.bytes(r.uint()) }

func (r *reader) same(prev string) string {
	n := r.uint()
	if r.err != nil || n == sameString {
		return prev
	}
	return r.bytes(n - 1)
}

func (r *reader) bool() bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail()
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *reader) nanos() int64 {
	ns := r.uint()
	if r.err != nil || ns >= int(time.Second) {
		r.fail()
		return 0
	}
	return int64(ns)
}

func (r *reader) time() time.Time {
	s := r.int()
	return time.Unix(s, r.nanos()).UTC()
}

func (r *reader) strs() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, r.str())
	}
	return out
}

// activityTypes numbers the known activity types for the binary form (0: another type, written
// out); the order is part of the format: append only.
var activityTypes = []event.ActivityType{event.PageView, event.ProductView, event.Search, event.AddToCart,
	event.RemoveFromCart, event.CheckoutStart}

// encodeUser writes u: binUser; the fence; ActivityMark; the events (each as differences from the
// previous, see events); the pending purchases; the released journeys with their origins (the
// user id written once); then the schedule's clocks, order marks, end markers and timers. Lists
// are a count and their elements; times are Unix seconds (varint) and nanoseconds.
func encodeUser(u *User) []byte {
	w := &writer{b: make([]byte, 0, 64+16*len(u.Events)+96*len(u.Done)+48*len(u.Timers))}
	w.b = append(w.b, binUser)
	w.uint(len(u.Fence))
	for _, m := range u.Fence {
		w.str(m.Source)
		w.int(m.Offset)
	}
	w.time(u.ActivityMark)
	w.events(u.Events)
	w.uint(len(u.Pending))
	for i := range u.Pending {
		w.purchase(&u.Pending[i])
	}
	w.uint(len(u.Done))
	user := ""
	for i := range u.Done {
		w.journey(&u.Done[i].Journey, user)
		user = u.Done[i].Journey.UserID
		w.str(u.Done[i].Origin)
	}
	w.schedule(u)
	return w.b
}

// events writes each event as: seconds since the previous event's (varint; the first since the
// epoch), nanoseconds, the id's prefix shared with the previous id and the rest, the type's number
// (activityTypes), the product, then the session id and the referrer as "the same" or themselves.
func (w *writer) events(es []Event) {
	w.uint(len(es))
	prev := &Event{}
	prevSec := int64(0)
	for i := range es {
		e := &es[i]
		sec := e.At.Unix()
		w.int(sec - prevSec)
		w.uint(e.At.Nanosecond())
		w.prefixed(e.ID, prev.ID)
		w.activityType(e.Type)
		w.str(e.ProductID)
		w.same(e.SessionID, prev.SessionID)
		w.same(e.Referrer, prev.Referrer)
		prev, prevSec = e, sec
	}
}

func (w *writer) activityType(t event.ActivityType) {
	for i, k := range activityTypes {
		if k == t {
			w.uint(i + 1)
			return
		}
	}
	w.uint(0)
	w.str(string(t))
}

func (w *writer) purchase(p *Purchase) {
	w.str(p.OrderID)
	w.time(p.At)
	w.str(p.Origin)
	w.strs(p.Products)
	w.int(p.Lines)
	w.int(p.Units)
	w.int(int64(p.Amount))
}

// journey writes a released order's journey; its user is the key's, so it is written once
// (prevUser: the previous journey's).
func (w *writer) journey(j *Journey, prevUser string) {
	w.same(j.UserID, prevUser)
	w.str(j.OrderID)
	w.time(j.PurchaseTime)
	w.str(j.SessionID)
	w.time(j.SessionStart)
	for _, v := range []int64{j.SessionSeconds, j.Events, j.PageViews, j.ProductViews, j.CartAdds} {
		w.int(v)
	}
	w.strs(j.Viewed)
	w.strs(j.Bought)
	w.int(j.ViewedThenBought)
	w.bool(j.SecondsToPurchase != nil)
	if j.SecondsToPurchase != nil {
		w.int(*j.SecondsToPurchase)
	}
	w.str(j.EntryReferrer)
	w.int(j.Lines)
	w.int(j.Units)
	w.int(int64(j.Amount))
}

// schedule writes the fields only a schedule key uses (empty for a user: four zero bytes).
func (w *writer) schedule(u *User) {
	w.uint(len(u.Clocks))
	for _, c := range u.Clocks {
		w.str(c.Source)
		w.int(c.Offset)
	}
	w.uint(len(u.Orders))
	for _, o := range u.Orders {
		w.str(o.Source)
		w.str(o.Order)
	}
	w.uint(len(u.Ends))
	for _, e := range u.Ends {
		w.str(e.Source)
		w.int(e.Marker)
		w.int(e.Want)
		w.int(e.Seen)
	}
	w.uint(len(u.Timers))
	for _, t := range u.Timers {
		w.str(t.User)
		w.str(t.Order)
		w.time(t.Due)
		w.bool(t.Passed)
	}
}

// decodeUser decodes a binary user value (b[0] is binUser). Empty lists decode as nil, as they
// do from JSON (omitempty).
func decodeUser(b []byte) (*User, error) {
	r := newReader(b[1:])
	u := &User{}
	if n := r.count(2); n > 0 {
		u.Fence = make(fence.Vector, 0, n)
		for range n {
			u.Fence = append(u.Fence, fence.Mark{Source: r.str(), Offset: r.int()})
		}
	}
	u.ActivityMark = r.time()
	u.Events = r.events()
	if n := r.count(8); n > 0 {
		u.Pending = make([]Purchase, n)
		for i := range u.Pending {
			r.purchase(&u.Pending[i])
		}
	}
	if n := r.count(21); n > 0 {
		u.Done = make([]Done, n)
		user := ""
		for i := range u.Done {
			r.journey(&u.Done[i].Journey, user)
			user = u.Done[i].Journey.UserID
			u.Done[i].Origin = r.str()
		}
	}
	r.schedule(u)
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("journeys: decode user (%d bytes): %w", len(b), ErrBinary)
	}
	return u, nil
}

// events decodes the activity. Each id is the previous one's prefix and a suffix: they are built
// in one buffer, which becomes one string that every id is a part of (one allocation, not one per
// event).
func (r *reader) events() []Event {
	n := r.count(8)
	if n == 0 {
		return nil
	}
	es := make([]Event, n)
	ends := make([]int, n)
	ids := make([]byte, 0, 24*n) // the generator's ids are 17 bytes
	prev := &Event{}
	prevSec, prevStart := int64(0), 0
	for i := range es {
		if r.err != nil {
			return nil
		}
		e := &es[i]
		sec := prevSec + r.int()
		e.At = time.Unix(sec, r.nanos()).UTC()
		start := len(ids)
		shared := r.uint()
		if shared > start-prevStart {
			r.fail()
			return nil
		}
		ids = append(ids, ids[prevStart:prevStart+shared]...)
		ids = append(ids, r.str()...)
		ends[i] = len(ids)
		e.Type = r.activityType()
		e.ProductID = r.str()
		e.SessionID = r.same(prev.SessionID)
		e.Referrer = r.same(prev.Referrer)
		prev, prevSec, prevStart = e, sec, start
	}
	all := string(ids)
	start := 0
	for i := range es {
		es[i].ID = all[start:ends[i]]
		start = ends[i]
	}
	return es
}

func (r *reader) activityType() event.ActivityType {
	i := r.uint()
	switch {
	case r.err != nil:
		return ""
	case i == 0:
		return event.ActivityType(r.str())
	case i <= len(activityTypes):
		return activityTypes[i-1]
	}
	r.fail()
	return ""
}

func (r *reader) purchase(p *Purchase) {
	p.OrderID = r.str()
	p.At = r.time()
	p.Origin = r.str()
	p.Products = r.strs()
	p.Lines = r.int()
	p.Units = r.int()
	p.Amount = event.Money(r.int())
}

func (r *reader) journey(j *Journey, prevUser string) {
	j.UserID = r.same(prevUser)
	j.OrderID = r.str()
	j.PurchaseTime = r.time()
	j.SessionID = r.str()
	j.SessionStart = r.time()
	for _, v := range []*int64{&j.SessionSeconds, &j.Events, &j.PageViews, &j.ProductViews, &j.CartAdds} {
		*v = r.int()
	}
	j.Viewed = r.strs()
	j.Bought = r.strs()
	j.ViewedThenBought = r.int()
	if r.bool() {
		s := r.int()
		j.SecondsToPurchase = &s
	}
	j.EntryReferrer = r.str()
	j.Lines = r.int()
	j.Units = r.int()
	j.Amount = event.Money(r.int())
}

func (r *reader) schedule(u *User) {
	if n := r.count(2); n > 0 {
		u.Clocks = make([]fence.Mark, n)
		for i := range u.Clocks {
			u.Clocks[i] = fence.Mark{Source: r.str(), Offset: r.int()}
		}
	}
	if n := r.count(2); n > 0 {
		u.Orders = make([]OrderMark, n)
		for i := range u.Orders {
			u.Orders[i] = OrderMark{Source: r.str(), Order: r.str()}
		}
	}
	if n := r.count(4); n > 0 {
		u.Ends = make([]End, n)
		for i := range u.Ends {
			u.Ends[i] = End{Source: r.str(), Marker: r.int(), Want: r.int(), Seen: r.int()}
		}
	}
	if n := r.count(5); n > 0 {
		u.Timers = make([]Timer, n)
		for i := range u.Timers {
			u.Timers[i] = Timer{User: r.str(), Order: r.str(), Due: r.time(), Passed: r.bool()}
		}
	}
}
