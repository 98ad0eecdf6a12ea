package journeys

import (
	"reflect"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
)

// TestRedeliveredFlushEmitsAgain: goka writes the local table inside the callback and the
// journey's emit later, so after a SIGKILL a flush can be delivered again to a user whose local
// value already shows the order released, the first emit lost. The journey must go out again,
// identical — also when the user's activity ran more than DoneKept past the purchase before the
// flush came (a history replay sends the activity first), which used to forget the order in the
// very write that released it.
func TestRedeliveredFlushEmitsAgain(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name  string
		ahead time.Duration // how far the user's activity runs past the purchase
	}{
		{"activity just past the bound", Bound + time.Minute},
		{"activity 9 days ahead", 9 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.activity("u~1", "10:00", event.PageView, "", "s1", "mail")
			h.activity("u~1", "10:02", event.ProductView, "P1", "s1", "")
			h.purchase("u~1", "O1", "P1", 1, "4.00", "10:05")
			h.nextOrder("O9")
			h.feed(topology.CleanActivity, "raw.activity", "u~1", activityAt(t, "u~1", at("10:05").Add(tc.ahead)), nil)
			want := Journey{UserID: "u~1", OrderID: "O1", PurchaseTime: at("10:05"), SessionID: "s1", SessionStart: at("10:00"),
				SessionSeconds: 300, Events: 2, PageViews: 1, ProductViews: 1, Viewed: []string{"P1"}, Bought: []string{"P1"},
				ViewedThenBought: 1, SecondsToPurchase: secs(180), EntryReferrer: "mail", Lines: 1, Units: 1, Amount: event.MustMoney("4.00")}
			if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("released %+v\nwant %+v", got, want)
			}
			// The same flush again, the first emit lost.
			h.tt.Consume(string(h.cfg.Namespace.Group(Group))+"-loop", "u~1", &Signal{Kind: SignalFlush, Orders: []string{"O1"}})
			if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("flush delivered again emitted %+v, want the journey again", got)
			}
		})
	}
}

// activityAt encodes a page view of user at when.
func activityAt(t *testing.T, user string, when time.Time) []byte {
	t.Helper()
	a := &event.Activity{EventID: user + when.Format(time.RFC3339), UserID: user, Type: event.PageView, Time: when}
	b, err := codecs.Activity{}.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRedeliveredScheduleSignalFlushesAgain: after a SIGKILL the schedule's local value can show a
// timer fired whose flush (and so the user's release and confirmation) never reached Kafka; the
// signal that fired it is delivered again and finds its work done. It must send the flush again,
// and the user's confirmation then leaves the schedule as an undisturbed run does.
func TestRedeliveredScheduleSignalFlushesAgain(t *testing.T) {
	schedule := ScheduleKey(0)
	tests := []struct {
		name   string
		signal *Signal // what fires the timer
		passed bool    // whether the timer fired because the user's activity passed the purchase
	}{
		{"passed by the user's activity", &Signal{Kind: SignalPassed, User: "u~1", Order: "O1"}, true},
		{"passed by the partition's watermark", &Signal{Kind: SignalClock, Source: "raw.activity/0", At: at("11:00"), Next: 50}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			loop := string(h.cfg.Namespace.Group(Group)) + "-loop"
			table := h.cfg.Namespace.Table(Group)
			h.activity("u~1", "10:00", event.PageView, "", "s1", "mail")
			h.purchase("u~1", "O1", "P1", 1, "4.00", "10:05")
			h.nextOrder("O9")
			pending := h.tt.TableValue(table, "u~1")
			if got := h.emitted(); len(got) != 0 {
				t.Fatalf("emitted before the timer fired: %+v", got)
			}
			h.tt.Consume(loop, schedule, tc.signal)
			want := Journey{UserID: "u~1", OrderID: "O1", PurchaseTime: at("10:05"), SessionID: "s1", SessionStart: at("10:00"),
				SessionSeconds: 300, Events: 1, PageViews: 1, Bought: []string{"P1"}, EntryReferrer: "mail",
				Lines: 1, Units: 1, Amount: event.MustMoney("4.00")}
			if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("released %+v\nwant %+v", got, want)
			}
			calm, _ := UserCodec{}.Encode(h.tt.TableValue(table, schedule))

			// The local tables as a SIGKILL leaves them: the schedule's timer fired, the flush
			// (and so the release and its confirmation) lost.
			s := h.tt.TableValue(table, schedule).(*User)
			s.Timers = append([]Timer{{User: "u~1", Order: "O1", Passed: tc.passed}}, s.Timers...) // O1 sorts before O9
			h.tt.SetTableValue(table, schedule, s)
			h.tt.SetTableValue(table, "u~1", pending)
			h.tt.Consume(loop, schedule, tc.signal)
			if got := h.emitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("signal delivered again emitted %+v, want the journey", got)
			}
			after, _ := UserCodec{}.Encode(h.tt.TableValue(table, schedule))
			if string(after) != string(calm) {
				t.Errorf("schedule after the repair %+v, want the undisturbed run's", h.tt.TableValue(table, schedule))
			}
			if u := h.tt.TableValue(table, "u~1").(*User); len(u.Pending) != 0 || len(u.Done) != 1 {
				t.Errorf("user pending %v, done %v: want O1 released", u.Pending, u.Done)
			}
			// Confirmed: the same signal once more sends nothing.
			h.tt.Consume(loop, schedule, tc.signal)
			if got := h.emitted(); len(got) != 0 {
				t.Errorf("a third delivery emitted %+v", got)
			}
		})
	}
}
