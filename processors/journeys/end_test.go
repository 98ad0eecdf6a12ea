package journeys

import (
	"reflect"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
)

// TestAtEnd: a partition is at the end of its input when every source has a marker after its last
// reported record and at least as new as any announced for it; a redelivered older marker or
// record changes nothing, a newer record ends it, and a source whose newest marker is older than
// one announced for it does not vouch for it.
func TestAtEnd(t *testing.T) {
	var u User
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"no markers", func() {}, false},
		{"one source of two", func() { u.EndInput("tx/0", 4, map[string]int64{"tx/0": 4}) }, false},
		{"both", func() { u.EndInput("act/0", 9, map[string]int64{"act/0": 9}) }, true},
		{"a redelivered record before the marker", func() { u.See("act/0", 8) }, true},
		{"a record after the marker: a later replay", func() { u.See("tx/0", 5) }, false},
		{"its marker, announcing one on act/0 too", func() { u.EndInput("tx/0", 6, map[string]int64{"tx/0": 6, "act/0": 12}) }, false},
		{"act/0's records of that replay", func() { u.See("act/0", 11) }, false},
		{"act/0's marker of that replay", func() { u.EndInput("act/0", 12, map[string]int64{"tx/0": 6, "act/0": 12}) }, true},
		{"redelivered older markers", func() {
			u.EndInput("tx/0", 4, map[string]int64{"tx/0": 4})
			u.EndInput("act/0", 9, map[string]int64{"act/0": 9})
		}, true},
	}
	for _, st := range steps {
		st.do()
		if got := u.AtEnd(2); got != st.want {
			t.Errorf("%s: at end %v, want %v (ends %+v)", st.name, got, st.want, u.Ends)
		}
	}
	want := []End{{Source: "act/0", Marker: 12, Want: 12, Seen: 9}, {Source: "tx/0", Marker: 6, Want: 6, Seen: 4}}
	if !reflect.DeepEqual(u.Ends, want) {
		t.Errorf("ends %+v\nwant %+v", u.Ends, want)
	}
}

// endHarness feeds records and markers with origins on the namespace's real raw topics (partition
// 0), whose markers the processor heeds.
type endHarness struct {
	*harness
	rawActivity, rawTransactions string
}

func newEndHarness(t *testing.T) *endHarness {
	h := newHarness(t)
	ns := h.cfg.Namespace
	return &endHarness{harness: h, rawActivity: string(ns.Stream(topology.Activity)), rawTransactions: string(ns.Stream(topology.Transactions))}
}

func (h *endHarness) view(user, clock, referrer string) {
	h.t.Helper()
	b, err := codecs.Activity{}.Encode(&event.Activity{EventID: user + clock, UserID: user, Type: event.PageView, Referrer: referrer, Time: at(clock)})
	if err != nil {
		h.t.Fatal(err)
	}
	h.feed(topology.CleanActivity, h.rawActivity, user, b, nil)
}

func (h *endHarness) buy(user, order, clock string) {
	h.t.Helper()
	b, err := codecs.TransactionLine{}.Encode(&event.TransactionLine{LineID: order + "-1", OrderID: order, Type: event.Purchase,
		UserID: user, ProductID: "P1", Quantity: 1, UnitPrice: event.MustMoney("2.50"), Time: at(clock)})
	if err != nil {
		h.t.Fatal(err)
	}
	h.feed(topology.CleanTransactions, h.rawTransactions, user, b, nil)
}

// marker feeds an end-of-input marker as the gateway of topic forwards it, at the next raw offset
// of its raw topic; announced are the raw offsets of its run's markers (partition 0) by input.
func (h *endHarness) marker(topic goka.Stream, announced map[goka.Stream]int64) {
	h.t.Helper()
	raw := map[goka.Stream]string{topology.CleanActivity: h.rawActivity, topology.CleanTransactions: h.rawTransactions}
	m := event.EndOfInput{Partitions: 1, Markers: map[string]int64{}}
	for in, off := range announced {
		m.Markers[raw[in]+"/0"] = off
	}
	h.offsets[raw[topic]]++
	if h.offsets[raw[topic]] != announced[topic] {
		h.t.Fatalf("marker at %d, announced at %d", h.offsets[raw[topic]], announced[topic])
	}
	hd := fence.Headers(fence.Origin{Topic: raw[topic], Partition: 0, Offset: h.offsets[raw[topic]]})
	hd[event.HeaderControl] = []byte(event.ControlEndOfInput)
	h.tt.Consume(string(h.cfg.Namespace.Stream(topic)), event.ControlKeys(1)[0], m.Encode(), tester.WithHeaders(hd))
}

func (h *endHarness) orders() []string {
	var out []string
	for _, j := range h.emitted() {
		out = append(out, j.OrderID+"/"+j.EntryReferrer)
	}
	return out
}

// TestEndOfInputReleasesTheLastOrders: the last order of a finite input, which no greater order id
// and no later activity follow, is released once every source's marker has arrived, and not
// before; the markers leave no value and count as no outcome. A later replay of both inputs waits
// for both its markers, whichever comes first; a later replay of transactions alone ends with its
// own markers.
func TestEndOfInputReleasesTheLastOrders(t *testing.T) {
	h := newEndHarness(t)
	act, tx := topology.CleanActivity, topology.CleanTransactions
	steps := []struct {
		name string
		do   func()
		want []string // orders released, with their entry referrer
	}{
		{"a purchase and its session", func() { h.view("x~1", "10:00", "ad"); h.buy("x~1", "O4", "10:05") }, nil},
		{"a transactions-only run's markers", func() { h.marker(tx, map[goka.Stream]int64{tx: 2}) }, nil},
		{"an activity-only run's markers", func() { h.marker(act, map[goka.Stream]int64{act: 2}) }, []string{"O4/ad"}},
		{"a later run of both: its purchase, its transactions marker", func() {
			h.buy("x~1", "O7", "12:00")
			h.marker(tx, map[goka.Stream]int64{tx: 4, act: 4})
		}, nil},
		{"its activity, still on its way", func() { h.view("x~1", "11:50", "search") }, nil},
		{"its activity marker", func() { h.marker(act, map[goka.Stream]int64{tx: 4, act: 4}) }, []string{"O7/search"}},
		{"a third run, of transactions alone", func() {
			h.buy("x~1", "O9", "13:00")
			h.marker(tx, map[goka.Stream]int64{tx: 6})
		}, []string{"O9/"}},
	}
	for _, st := range steps {
		st.do()
		if got := h.orders(); !reflect.DeepEqual(got, st.want) {
			t.Fatalf("%s: released %v, want %v", st.name, got, st.want)
		}
	}
	table := h.cfg.Namespace.Table(Group)
	if v := h.tt.TableValue(table, event.ControlKeys(1)[0]); v != nil {
		t.Errorf("the marker's key has a value: %+v", v)
	}
	if got := h.counts.Of(Processor); got["accepted"] != 5 || len(got) != 1 {
		t.Errorf("outcomes %v, want the 5 records accepted and nothing for the markers", got)
	}
	sched := h.tt.TableValue(table, ScheduleKey(0)).(*User)
	want := []End{{Source: h.rawActivity + "/0", Marker: 5, Want: 5, Seen: 3}, {Source: h.rawTransactions + "/0", Marker: 7, Want: 7, Seen: 5}}
	if len(sched.Timers) != 0 || !reflect.DeepEqual(sched.Ends, want) {
		t.Errorf("schedule timers %+v ends %+v; want none and %+v", sched.Timers, sched.Ends, want)
	}
}

// TestPendingPurchaseKeepsItsSession: a pending purchase keeps the activity of the Keep before it
// however far the user's activity runs ahead before its flush comes (the loop lags a replay's
// activity by days), and its journey sees only that Keep, whatever else the user still holds.
func TestPendingPurchaseKeepsItsSession(t *testing.T) {
	day := 24 * time.Hour
	t0 := at("10:00")
	var u User
	add := func(id string, when time.Time) {
		u.AddActivity(&event.Activity{EventID: id, Type: event.PageView, SessionID: "s", Time: when})
		u.prune()
	}
	buy := func(order string, when time.Time) {
		if _, err := u.AddPurchaseLine(&event.TransactionLine{OrderID: order, Type: event.Purchase, ProductID: "P1", Quantity: 1,
			UnitPrice: event.MustMoney("1.00"), Time: when}, fence.Origin{Topic: "raw", Offset: 1}); err != nil {
			t.Fatal(err)
		}
	}
	buy("O0", t0.Add(-2*day))             // keeps the Keep before it too
	add("old", t0.Add(-Keep-time.Minute)) // O1's session id, but older than the Keep before O1
	buy("O1", t0)
	add("e1", t0.Add(-10*time.Minute))
	add("e2", t0.Add(-5*time.Minute))
	add("later", t0.Add(9*day)) // the user's activity runs 9 days ahead before the flush
	if n := len(u.Events); n != 4 {
		t.Fatalf("%d events kept while O1 is pending, want 4", n)
	}
	released, _ := u.Release("x~1", []string{"O1"})
	if len(released) != 1 || released[0].Journey.Events != 2 || !released[0].Journey.SessionStart.Equal(t0.Add(-10*time.Minute)) {
		t.Fatalf("released %+v, want O1 with the 2 events of the Keep before it", released)
	}
	u.Release("x~1", []string{"O0"})
	if n := len(u.Events); n != 4 {
		t.Errorf("%d events kept after the release, want the 4 of the Retain behind the newest", n)
	}
	add("a year later", t0.Add(9*day+Retain))
	if n := len(u.Events); n != 2 {
		t.Errorf("%d events kept a Retain later, want 2 (the newest and the one 9 days before it)", n)
	}
}
