package journeys

import (
	"reflect"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
)

// TestAtEnd: a partition is at the end of its input when every source has a marker after its last
// reported record and all newest markers are of one run; a redelivered older marker or record
// changes nothing, a newer record ends it, and an older run's marker does not vouch for a source
// while another source has sent a newer run's.
func TestAtEnd(t *testing.T) {
	var u User
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"no markers", func() {}, false},
		{"one source of two", func() { u.EndInput("tx/0", 4, "r1") }, false},
		{"both, one run", func() { u.EndInput("act/0", 9, "r1") }, true},
		{"a redelivered record before the marker", func() { u.See("act/0", 8) }, true},
		{"a record after the marker: a later replay", func() { u.See("act/0", 10) }, false},
		{"its marker, of the later run", func() { u.EndInput("act/0", 11, "r2") }, false},
		{"the other source's marker of the later run", func() { u.EndInput("tx/0", 5, "r2") }, true},
		{"a redelivered older marker", func() { u.EndInput("tx/0", 4, "r1") }, true},
	}
	for _, st := range steps {
		st.do()
		if got := u.AtEnd(2); got != st.want {
			t.Errorf("%s: at end %v, want %v (ends %+v)", st.name, got, st.want, u.Ends)
		}
	}
	want := []End{{Source: "act/0", Marker: 11, Run: "r2", Seen: 10}, {Source: "tx/0", Marker: 5, Run: "r2"}}
	if !reflect.DeepEqual(u.Ends, want) {
		t.Errorf("ends %+v\nwant %+v", u.Ends, want)
	}
}

// marker feeds an end-of-input marker of run from rawTopic's partition 0, at the next raw offset,
// to a clean topic, as a gateway forwards it.
func (h *harness) marker(topic goka.Stream, rawTopic, run string) {
	h.t.Helper()
	h.offsets[rawTopic]++
	hd := fence.Headers(fence.Origin{Topic: rawTopic, Partition: 0, Offset: h.offsets[rawTopic]})
	hd[event.HeaderControl] = []byte(event.ControlEndOfInput)
	h.tt.Consume(string(h.cfg.Namespace.Stream(topic)), event.ControlKeys(1)[0],
		event.EndOfInput{Partitions: 1, Run: run}.Encode(), tester.WithHeaders(hd))
}

// TestEndOfInputReleasesTheLastOrders: the last order of a finite input, which no greater order id
// and no later activity follow, is released once both sources' end-of-input markers arrive, and
// not before; the markers leave no value behind and count as no outcome. A later replay's order
// waits for its own markers.
func TestEndOfInputReleasesTheLastOrders(t *testing.T) {
	h := newHarness(t)
	h.activity("x~1", "10:00", event.ProductView, "P1", "s1", "ad")
	h.purchase("x~1", "O4", "P1", 2, "5.00", "10:05")
	h.marker(topology.CleanTransactions, "raw.transactions", "r1")
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("released with activity still to come: %+v", got)
	}
	h.marker(topology.CleanActivity, "raw.activity", "r1")
	want := []Journey{{UserID: "x~1", OrderID: "O4", PurchaseTime: at("10:05"), SessionID: "s1", SessionStart: at("10:00"),
		SessionSeconds: 300, Events: 1, ProductViews: 1, Viewed: []string{"P1"}, Bought: []string{"P1"},
		ViewedThenBought: 1, SecondsToPurchase: secs(300), EntryReferrer: "ad", Lines: 1, Units: 2,
		Amount: event.MustMoney("10.00")}}
	if got := h.emitted(); !reflect.DeepEqual(got, want) {
		t.Fatalf("journeys %+v\nwant %+v", got, want)
	}
	table := h.cfg.Namespace.Table(Group)
	if v := h.tt.TableValue(table, event.ControlKeys(1)[0]); v != nil {
		t.Errorf("the marker's key has a value: %+v", v)
	}
	if got := h.counts.Of(Processor); got["accepted"] != 2 || len(got) != 1 {
		t.Errorf("outcomes %v, want the 2 records accepted and nothing for the markers", got)
	}

	// A later replay: a line after the markers makes its source deliver again; the order waits
	// for the later run's markers of every source, whichever comes first — here the
	// transactions', with the later run's activity still on its way.
	h.purchase("x~1", "O7", "P2", 1, "3.00", "12:00")
	h.marker(topology.CleanTransactions, "raw.transactions", "r2")
	h.activity("x~1", "11:50", event.PageView, "", "", "search") // the later run's activity
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("a later replay's order released on the first run's activity marker: %+v", got)
	}
	h.marker(topology.CleanActivity, "raw.activity", "r2")
	want = []Journey{{UserID: "x~1", OrderID: "O7", PurchaseTime: at("12:00"), SessionStart: at("11:50"),
		SessionSeconds: 600, Events: 1, PageViews: 1, Bought: []string{"P2"}, EntryReferrer: "search",
		Lines: 1, Units: 1, Amount: event.MustMoney("3.00")}}
	if got := h.emitted(); !reflect.DeepEqual(got, want) {
		t.Fatalf("journeys %+v\nwant %+v", got, want)
	}
	sched := h.tt.TableValue(table, ScheduleKey(0)).(*User)
	wantEnds := []End{{Source: "raw.activity/0", Marker: 5, Run: "r2", Seen: 4}, {Source: "raw.transactions/0", Marker: 5, Run: "r2", Seen: 4}}
	if len(sched.Timers) != 0 || !reflect.DeepEqual(sched.Ends, wantEnds) {
		t.Errorf("schedule timers %+v ends %+v; want none and %+v", sched.Timers, sched.Ends, wantEnds)
	}
}
