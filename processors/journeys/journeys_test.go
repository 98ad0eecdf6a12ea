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
	p, err := New(h.cfg, Sources{Activity: 1, Transactions: 1}, goka.WithTester(tt))
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

// nextOrder feeds a purchase line of another user with order id order: the transaction source
// (one here) has moved past every smaller order, which are then complete.
func (h *harness) nextOrder(order string) {
	h.t.Helper()
	h.purchase("z~9", order, "P0", 1, "1.00", "23:00")
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
// it; its journey is emitted only once the order is complete (a later order id from its source)
// and the user's activity passes the purchase time + Bound, and then describes the session exactly.
func TestJourneyHeldUntilActivityPassesBound(t *testing.T) {
	h := newHarness(t)
	h.purchase("u~1", "O1", "P1", 2, "5.00", "10:20")
	h.purchase("u~1", "O1", "P9", 1, "1.25", "10:20")
	h.nextOrder("O9")
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

	// The activity that passed the bound delivered again: its signal to the schedule goes again
	// (and finds the timer gone), nothing is emitted.
	h.feed(topology.CleanActivity, "raw.activity", "u~1", mustActivity(t, "u~1", "10:51"), &release)
	if got := h.emitted(); len(got) != 0 {
		t.Errorf("a redelivered activity emitted %+v", got)
	}
	// The releasing flush delivered again: its journey goes out again identically (the first
	// emit may have been lost).
	h.tt.Consume(string(h.cfg.Namespace.Group(Group))+"-loop", "u~1", &Signal{Kind: SignalFlush, Orders: []string{"O1"}})
	if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("re-emitted %+v, want the same journey once", got)
	}
	after, _ := json.Marshal(h.tt.TableValue(h.cfg.Namespace.Table(Group), "u~1"))
	if string(before) != string(after) {
		t.Errorf("a redelivery changed the user:\n%s\n%s", before, after)
	}

	// A late line of the emitted order changes no journey; it is counted in the metrics (whether
	// it came before or after the release depends on arrival, so the table does not hold it).
	h.purchase("u~1", "O1", "P7", 1, "3.00", "10:20")
	if got := h.emitted(); len(got) != 0 {
		t.Errorf("a late line emitted %+v", got)
	}
	if u := h.tt.TableValue(h.cfg.Namespace.Table(Group), "u~1").(*User); len(u.Pending) != 0 {
		t.Errorf("pending %v", u.Pending)
	}
	if got, want := h.counts.Of(Processor), map[outcome.Outcome]int64{outcome.Accepted: 11, outcome.Duplicate: 1, LateLine: 1}; !reflect.DeepEqual(got, want) {
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
// purchase at once (and the schedule's flush for it later repeats nothing: the user's own
// activity released it).
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
	h.nextOrder("O9")

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
	h.nextOrder("O9")
	h.activity("y~1", "10:38", event.PageView, "", "", "") // reports 10:30 (ClockStep): due is 10:38
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("flushed at the due time: %+v", got)
	}
	h.activity("y~1", "10:39", event.PageView, "", "", "") // still the step of 10:30: not told
	if got := h.emitted(); len(got) != 0 {
		t.Fatalf("flushed without a clock report: %+v", got)
	}
	h.activity("y~1", "10:41", event.PageView, "", "", "") // reports 10:40, past 10:38
	want := []Journey{{UserID: "x~1", OrderID: "O4", PurchaseTime: at("10:03"), SessionStart: at("10:00"),
		SessionSeconds: 180, Events: 1, ProductViews: 1, Viewed: []string{"P1"}, Bought: []string{"P1"},
		ViewedThenBought: 1, SecondsToPurchase: secs(180), EntryReferrer: "ad", Lines: 1, Units: 1,
		Amount: event.MustMoney("9.99")}}
	if got := h.emitted(); !reflect.DeepEqual(got, want) {
		t.Fatalf("journeys %+v\nwant %+v", got, want)
	}
	sched := h.tt.TableValue(h.cfg.Namespace.Table(Group), ScheduleKey(0)).(*User)
	// What stays is the timer of O9, which nothing has followed.
	if len(sched.Timers) != 1 || sched.Timers[0].Order != "O9" || len(sched.Clocks) != 1 || !time.Unix(0, sched.Clocks[0].Offset).Equal(at("10:40")) {
		t.Errorf("schedule after the flush: %+v", sched)
	}
	x := h.tt.TableValue(h.cfg.Namespace.Table(Group), "x~1").(*User)
	if len(x.Pending) != 0 || len(x.Done) != 1 {
		t.Errorf("user after the flush: pending %v, done %d", x.Pending, len(x.Done))
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
	wm := u.Watermark(2)
	steps := []struct {
		name   string
		timer  Timer
		orders string
		ready  []string
		timers int
	}{
		{"complete, watermark past due", Timer{User: "a", Order: "O1", Due: at("09:29")}, "O2", []string{"a/O1"}, 0},
		{"at the watermark itself", Timer{User: "b", Order: "O1", Due: at("09:30")}, "O2", nil, 1},
		{"the user's activity passed it", Timer{User: "b", Order: "O1", Passed: true}, "O2", []string{"b/O1"}, 0},
		{"incomplete: the mark is the order", Timer{User: "c", Order: "O2", Due: at("09:00"), Passed: true}, "O2", nil, 1},
		{"the same order again, earlier", Timer{User: "c", Order: "O2", Due: at("08:00")}, "O2", nil, 1},
		{"a passed signal without a timer leaves none", Timer{User: "d", Order: "O0", Passed: true}, "O2", nil, 1},
		{"the mark moves past it", Timer{User: "c", Order: "O2", Due: at("09:00")}, "O3", []string{"c/O2"}, 0},
	}
	for _, st := range steps {
		var ready []string
		for _, r := range u.Schedule(&st.timer, wm, st.orders) {
			ready = append(ready, r.User+"/"+r.Order)
		}
		if !reflect.DeepEqual(ready, st.ready) || len(u.Timers) != st.timers {
			t.Errorf("%s: ready %v, timers %v; want %v and %d timers", st.name, ready, u.Timers, st.ready, st.timers)
		}
	}
}

// TestOrdersMarkWaitsForEverySource: the schedule's order mark is the smallest of the greatest
// order ids its sources delivered, and none until every source has reported.
func TestOrdersMarkWaitsForEverySource(t *testing.T) {
	var u User
	u.TickOrder("raw/1", "o20240301-000007")
	if m := u.OrdersMark(2); m != "" {
		t.Errorf("order mark %q with one of two sources", m)
	}
	u.TickOrder("raw/0", "o20240301-000005")
	u.TickOrder("raw/1", "o20240301-000003") // marks never go back
	if m := u.OrdersMark(2); m != "o20240301-000005" {
		t.Errorf("order mark %q, want o20240301-000005", m)
	}
	if want := []OrderMark{{"raw/0", "o20240301-000005"}, {"raw/1", "o20240301-000007"}}; !reflect.DeepEqual(u.Orders, want) {
		t.Errorf("orders %v, want %v", u.Orders, want)
	}
}
