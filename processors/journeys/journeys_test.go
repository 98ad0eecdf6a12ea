package journeys

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

type harness struct {
	t        *testing.T
	tt       *tester.Tester
	cfg      cluster.Config
	counts   *outcome.Counts
	journeys *tester.QueueTracker
	offsets  map[string]int64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	h := &harness{t: t, tt: tt, counts: &outcome.Counts{}, offsets: map[string]int64{}}
	h.cfg = cluster.Config{Brokers: []string{"tester"}, Namespace: "unit.", Observer: h.counts}
	p, err := New(h.cfg, 1, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	h.journeys = tt.NewQueueTracker(string(h.cfg.Namespace.Stream(topology.Journeys)))
	return h
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, "2024-03-01T"+s+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

// feed consumes a clean record of user with the next raw offset of rawTopic (partition 0), or
// with the origin given (a redelivery), and returns the origin used.
func (h *harness) feed(topic goka.Stream, rawTopic, user string, value []byte, o *fence.Origin) fence.Origin {
	h.t.Helper()
	if o == nil {
		h.offsets[rawTopic]++
		o = &fence.Origin{Topic: rawTopic, Partition: 0, Offset: h.offsets[rawTopic]}
	}
	h.tt.Consume(string(h.cfg.Namespace.Stream(topic)), user, value, tester.WithHeaders(fence.Headers(*o)))
	return *o
}

func (h *harness) activity(user, clock string, typ event.ActivityType, product, session, referrer string) fence.Origin {
	h.t.Helper()
	a := &event.Activity{EventID: user + clock + string(typ), UserID: user, SessionID: session, Type: typ,
		ProductID: product, Referrer: referrer, Time: at(clock)}
	b, err := codecs.Activity{}.Encode(a)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.feed(topology.CleanActivity, "raw.activity", user, b, nil)
}

func (h *harness) purchase(user, order, product string, qty int64, price, clock string) fence.Origin {
	h.t.Helper()
	l := &event.TransactionLine{LineID: order + product, OrderID: order, Type: event.Purchase, UserID: user,
		ProductID: product, Quantity: qty, UnitPrice: event.MustMoney(price), Time: at(clock)}
	b, err := codecs.TransactionLine{}.Encode(l)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.feed(topology.CleanTransactions, "raw.transactions", user, b, nil)
}

// emitted returns the journeys emitted since the last call.
func (h *harness) emitted() []Journey {
	h.t.Helper()
	var out []Journey
	for {
		_, v, ok := h.journeys.Next()
		if !ok {
			return out
		}
		out = append(out, *v.(*Journey))
	}
}

func secs(n int64) *int64 { return &n }

// TestJourneyHeldUntilActivityPassesBound: the purchase arrives before the activity that led to
// it; its journey is emitted only once the user's activity passes the purchase time + Bound, and
// then describes the session exactly.
func TestJourneyHeldUntilActivityPassesBound(t *testing.T) {
	h := newHarness(t)
	h.purchase("u~1", "O1", "P1", 2, "5.00", "10:20")
	h.purchase("u~1", "O1", "P9", 1, "1.25", "10:20")
	h.activity("u~1", "09:00", event.PageView, "", "", "old") // a session of its own, ended long before
	h.activity("u~1", "10:00", event.PageView, "", "", "search")
	h.activity("u~1", "10:05", event.ProductView, "P2", "", "")
	h.activity("u~1", "10:10", event.ProductView, "P1", "", "")
	h.activity("u~1", "10:12", event.AddToCart, "P1", "", "")
	h.activity("u~1", "10:50", event.PageView, "", "", "") // exactly at the bound: not past it
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("emitted before the bound: %+v", got)
	}
	release := h.activity("u~1", "10:51", event.PageView, "", "", "")
	want := Journey{UserID: "u~1", OrderID: "O1", PurchaseTime: at("10:20"), SessionStart: at("10:00"),
		SessionSeconds: 1200, Events: 4, PageViews: 1, ProductViews: 2, CartAdds: 1,
		Viewed: []string{"P1", "P2"}, Bought: []string{"P1", "P9"}, ViewedThenBought: 1,
		SecondsToPurchase: secs(900), EntryReferrer: "search", Lines: 2, Units: 3, Amount: event.MustMoney("11.25")}
	got := h.emitted()
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("journeys %+v\nwant %+v", got, want)
	}
	before, _ := json.Marshal(h.tt.TableValue(h.cfg.Namespace.Table(Group), "u~1"))

	// The releasing record delivered again: nothing changes, and its journey goes out again
	// identically (the first emit may have been lost).
	h.feed(topology.CleanActivity, "raw.activity", "u~1", mustActivity(t, "u~1", "10:51"), &release)
	if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("re-emitted %+v, want the same journey once", got)
	}
	after, _ := json.Marshal(h.tt.TableValue(h.cfg.Namespace.Table(Group), "u~1"))
	if string(before) != string(after) {
		t.Errorf("a redelivery changed the user:\n%s\n%s", before, after)
	}

	// A late line of the emitted order changes no journey; it is counted.
	h.purchase("u~1", "O1", "P7", 1, "3.00", "10:20")
	if got := h.emitted(); len(got) != 0 {
		t.Errorf("a late line emitted %+v", got)
	}
	if u := h.tt.TableValue(h.cfg.Namespace.Table(Group), "u~1").(*User); u.LateLines != 1 || len(u.Pending) != 0 {
		t.Errorf("late lines %d, pending %v", u.LateLines, u.Pending)
	}
	if got, want := h.counts.Of(Processor), map[outcome.Outcome]int64{outcome.Accepted: 10, outcome.Duplicate: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

func mustActivity(t *testing.T, user, clock string) []byte {
	a := &event.Activity{EventID: user + clock + string(event.PageView), UserID: user, Type: event.PageView, Time: at(clock)}
	b, err := codecs.Activity{}.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJourneySessions: a source session id decides the session over time gaps; a purchase with no
// activity within the gap before it has an empty session; activity that arrived first releases a
// purchase at once.
func TestJourneySessions(t *testing.T) {
	h := newHarness(t)
	h.activity("v~1", "09:00", event.PageView, "", "s1", "ad")
	h.activity("v~1", "09:10", event.PageView, "", "s2", "email")
	h.activity("v~1", "09:12", event.ProductView, "P3", "s2", "")
	h.activity("v~1", "09:16", event.ProductView, "P4", "s1", "")
	h.activity("v~1", "09:18", event.AddToCart, "P3", "s2", "")
	h.activity("v~1", "10:00", event.PageView, "", "s3", "")
	h.purchase("v~1", "O2", "P3", 1, "2.50", "09:20")

	h.activity("w~1", "08:00", event.PageView, "", "", "direct")
	h.purchase("w~1", "O3", "P5", 4, "0.665", "09:00")
	h.activity("w~1", "09:31", event.PageView, "", "", "")

	want := []Journey{
		{UserID: "v~1", OrderID: "O2", PurchaseTime: at("09:20"), SessionID: "s2", SessionStart: at("09:10"),
			SessionSeconds: 600, Events: 3, PageViews: 1, ProductViews: 1, CartAdds: 1, Viewed: []string{"P3"},
			Bought: []string{"P3"}, ViewedThenBought: 1, SecondsToPurchase: secs(480), EntryReferrer: "email",
			Lines: 1, Units: 1, Amount: event.MustMoney("2.50")},
		{UserID: "w~1", OrderID: "O3", PurchaseTime: at("09:00"), Bought: []string{"P5"}, Lines: 1, Units: 4,
			Amount: event.MustMoney("2.66")},
	}
	if got := h.emitted(); !reflect.DeepEqual(got, want) {
		t.Errorf("journeys\n got %+v\nwant %+v", got, want)
	}
}

// TestJourneysUndecodable: bytes that are not an event become a dead letter.
func TestJourneysUndecodable(t *testing.T) {
	h := newHarness(t)
	h.feed(topology.CleanActivity, "raw.activity", "x~1", []byte("{"), nil)
	h.feed(topology.CleanTransactions, "raw.transactions", "x~1", []byte("nope"), nil)
	if got := h.counts.Of(Processor)[outcome.Rejected(event.ReasonUndecodable)]; got != 2 {
		t.Errorf("%d undecodable, want 2", got)
	}
}

// TestJourneyFlushedByPartitionWatermark: a purchase whose user shows no later activity is
// released once the activity of the user's partition (here one source) passes the purchase +
// Bound + Slack, and not before.
func TestJourneyFlushedByPartitionWatermark(t *testing.T) {
	h := newHarness(t)
	h.activity("x~1", "10:00", event.ProductView, "P1", "", "ad")
	h.purchase("x~1", "O4", "P1", 1, "9.99", "10:03")
	h.activity("y~1", "10:38", event.PageView, "", "", "") // due is 10:38: not past it
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("flushed at the due time: %+v", got)
	}
	h.activity("y~1", "10:47", event.PageView, "", "", "") // within a ClockStep of the last report: not told
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("flushed without a clock report: %+v", got)
	}
	h.activity("y~1", "10:48", event.PageView, "", "", "")
	want := []Journey{{UserID: "x~1", OrderID: "O4", PurchaseTime: at("10:03"), SessionStart: at("10:00"),
		SessionSeconds: 180, Events: 1, ProductViews: 1, Viewed: []string{"P1"}, Bought: []string{"P1"},
		ViewedThenBought: 1, SecondsToPurchase: secs(180), EntryReferrer: "ad", Lines: 1, Units: 1,
		Amount: event.MustMoney("9.99")}}
	if got := h.emitted(); !reflect.DeepEqual(got, want) {
		t.Fatalf("journeys %+v\nwant %+v", got, want)
	}
	sched := h.tt.TableValue(h.cfg.Namespace.Table(Group), ScheduleKey(0)).(*User)
	if len(sched.Timers) != 0 || len(sched.Clocks) != 1 || !time.Unix(0, sched.Clocks[0].Offset).Equal(at("10:48")) {
		t.Errorf("schedule after the flush: %+v", sched)
	}
	x := h.tt.TableValue(h.cfg.Namespace.Table(Group), "x~1").(*User)
	if !x.FlushMark.Equal(at("10:43")) || len(x.Pending) != 0 || len(x.Done) != 1 {
		t.Errorf("user after the flush: flush mark %s, pending %v, done %d", x.FlushMark, x.Pending, len(x.Done))
	}
}

// TestWatermarkWaitsForEverySource: the schedule's watermark is the slowest source's clock, and
// none until every source has reported.
func TestWatermarkWaitsForEverySource(t *testing.T) {
	var u User
	u.Tick("raw/0", at("10:00"))
	if wm := u.Watermark(2); !wm.IsZero() {
		t.Errorf("watermark %s with one of two sources", wm)
	}
	u.Tick("raw/1", at("09:30"))
	u.Tick("raw/0", at("09:00")) // clocks never go back
	if wm := u.Watermark(2); !wm.Equal(at("09:30")) {
		t.Errorf("watermark %s, want 09:30", wm)
	}
	due := u.Schedule(&Timer{User: "a", Due: at("09:29")}, u.Watermark(2))
	if !reflect.DeepEqual(due, []string{"a"}) || len(u.Timers) != 0 {
		t.Errorf("due %v, timers %v", due, u.Timers)
	}
	if due := u.Schedule(&Timer{User: "b", Due: at("09:30")}, u.Watermark(2)); len(due) != 0 || len(u.Timers) != 1 {
		t.Errorf("due %v at the watermark itself, timers %v", due, u.Timers)
	}
}
