package realtime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/windows"
)

// memSink records the latest value per window and partition, as Redis would hold it.
type memSink struct {
	mu      sync.Mutex
	windows map[string]Counts // "start/part"
	alerts  []Alert
}

func newMemSink() *memSink { return &memSink{windows: map[string]Counts{}} }

func (m *memSink) SetWindow(start time.Time, part int32, c Counts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.windows[fmt.Sprintf("%s/%d", start.UTC().Format("15:04"), part)] = c
}

func (m *memSink) SetAlert(a Alert) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alerts = append(m.alerts, a)
}

func (m *memSink) get(key string) Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.windows[key]
}

// harness runs the processor on goka's tester with a manual clock.
type harness struct {
	t     *testing.T
	tt    *tester.Tester
	cfg   cluster.Config
	sink  *memSink
	clock *windows.ManualClock
	late  *tester.QueueTracker
	alert *tester.QueueTracker
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, grace time.Duration) *harness {
	h := &harness{t: t, tt: tester.New(t), cfg: cluster.Config{Brokers: []string{"tester"}, Namespace: "unit."},
		sink: newMemSink(), clock: windows.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s := Settings{Windows: windows.Config{Grace: grace, Clock: h.clock}, Sink: h.sink}
	p, err := New(h.cfg, s, goka.WithTester(h.tt))
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
	h.late = h.tt.NewQueueTracker(string(h.cfg.Namespace.Stream(topology.Late)))
	h.alert = h.tt.NewQueueTracker(string(h.cfg.Namespace.Stream(topology.Alerts)))
	return h
}

// activity feeds one clean activity event with origin raw activity partition rp, offset off.
func (h *harness) activity(user string, typ event.ActivityType, at time.Duration, rp int32, off int64) {
	b, err := codecs.Activity{}.Encode(&event.Activity{EventID: "e", UserID: user, Type: typ, ProductID: "P1", Time: t0.Add(at)})
	if err != nil {
		h.t.Fatal(err)
	}
	o := fence.Origin{Topic: "unit.shopease.activity", Partition: rp, Offset: off}
	h.tt.Consume(string(h.cfg.Namespace.Stream(topology.CleanActivity)), user, b, tester.WithHeaders(fence.Headers(o)))
}

// purchase feeds one clean purchase line.
func (h *harness) purchase(user string, at time.Duration, rp int32, off int64) {
	b, err := codecs.TransactionLine{}.Encode(&event.TransactionLine{LineID: fmt.Sprint("l", off), OrderID: "o", Type: event.Purchase,
		UserID: user, ProductID: "P1", Quantity: 1, UnitPrice: 100, Time: t0.Add(at)})
	if err != nil {
		h.t.Fatal(err)
	}
	o := fence.Origin{Topic: "unit.shopease.transactions", Partition: rp, Offset: off}
	h.tt.Consume(string(h.cfg.Namespace.Stream(topology.CleanTransactions)), user, b, tester.WithHeaders(fence.Headers(o)))
}

func (h *harness) value(key string) *Value {
	v, _ := h.tt.TableValue(h.cfg.Namespace.Table(Group), key).(*Value)
	return v
}

// TestDistinctUsersPerWindow: active users and purchasers are distinct per window, events count
// per type, and a redelivered event (same origin) changes nothing.
func TestDistinctUsersPerWindow(t *testing.T) {
	h := newHarness(t, 2*time.Minute)
	h.activity("vA", event.PageView, 5*time.Second, 0, 1)
	h.activity("vA", event.ProductView, 20*time.Second, 0, 2)
	h.activity("vB", event.PageView, 30*time.Second, 1, 1)
	h.activity("vA", event.PageView, 5*time.Second, 0, 1) // redelivery
	h.purchase("vA", 40*time.Second, 0, 7)
	h.purchase("vA", 45*time.Second, 0, 8) // a second line: still one purchaser
	h.purchase("vC", 50*time.Second, 2, 3) // purchases without activity count too
	h.purchase("vC", 50*time.Second, 2, 3) // redelivery
	h.activity("vB", event.Search, 70*time.Second, 1, 2)
	h.tt.Catchup()

	want := map[string]string{
		"10:00/0": "{2 2 map[page_view:2 product_view:1]}",
		"10:01/0": "{1 0 map[search:1]}",
	}
	for k, w := range want {
		if got := fmt.Sprint(h.sink.get(k)); got != w {
			t.Errorf("window %s: %s, want %s", k, got, w)
		}
	}
	if v := h.value(partKey(0)); v == nil || v.Part == nil || len(v.Part.Open) != 2 || v.Part.Late != 0 {
		t.Errorf("partition state %+v", v)
	}
}

// TestWindowsCloseAndLateEvents: once the watermark (the slowest source) is past a window's end
// plus the grace, the window closes into its minute row; an event for it afterwards is late: it
// goes to the late topic and is added to the minute row, so the metrics stay exact.
func TestWindowsCloseAndLateEvents(t *testing.T) {
	h := newHarness(t, time.Minute)
	h.activity("vA", event.PageView, 10*time.Second, 0, 1)
	h.purchase("vA", 20*time.Second, 0, 1)
	h.activity("vB", event.PageView, 3*time.Minute, 0, 2)
	h.tt.Catchup()
	// The purchases source is still at 10:00:20: nothing closes.
	if v := h.value(minuteKey(t0.UnixMilli())); v != nil {
		t.Fatalf("window closed early: %+v", v.Minute)
	}
	h.purchase("vB", 3*time.Minute+5*time.Second, 0, 2)
	h.tt.Catchup()
	v := h.value(minuteKey(t0.UnixMilli()))
	if v == nil || v.Minute == nil || fmt.Sprint(v.Minute.Parts[0].Sum()) != "{1 1 map[page_view:1]}" {
		t.Fatalf("closed minute %+v", v)
	}
	h.activity("vC", event.PageView, 30*time.Second, 1, 1) // a new source, behind the frontier
	h.activity("vA", event.Search, 40*time.Second, 0, 3)
	h.activity("vC", event.PageView, 30*time.Second, 1, 1) // redelivered late event
	h.tt.Catchup()
	if got := fmt.Sprint(h.sink.get("10:00/0")); got != "{2 1 map[page_view:2 search:1]}" {
		t.Errorf("window 10:00 after late events: %s", got)
	}
	var lates []string
	for {
		k, v, ok := h.late.Next()
		if !ok {
			break
		}
		l := v.(*LateEvent)
		lates = append(lates, fmt.Sprintf("%s %s %v", k, l.Type, l.Dropped))
	}
	if fmt.Sprint(lates) != "[vC page_view false vA search false]" {
		t.Errorf("late records %v", lates)
	}
	if v := h.value(partKey(0)); v.Part.Late != 2 || v.Part.Closed != t0.Add(2*time.Minute).UnixMilli() {
		t.Errorf("late %d, closed frontier %v", v.Part.Late, time.UnixMilli(v.Part.Closed).UTC())
	}
}

// TestIdleSourceStopsHoldingTheWatermark: a source silent for longer than Idle (wall clock) no
// longer holds windows open.
func TestIdleSourceStopsHoldingTheWatermark(t *testing.T) {
	h := newHarness(t, time.Minute)
	h.purchase("vA", 0, 0, 1)
	h.activity("vA", event.PageView, 10*time.Second, 0, 1)
	h.clock.Advance(2 * time.Minute)
	h.activity("vB", event.PageView, 5*time.Minute, 0, 2)
	h.tt.Catchup()
	if v := h.value(minuteKey(t0.UnixMilli())); v == nil || v.Minute == nil {
		t.Fatalf("window 10:00 not closed after the purchases source went idle")
	}
}
