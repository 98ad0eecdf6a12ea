package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
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

// harness runs the processor on goka's tester (one partition) with sources raw activity
// partitions.
type harness struct {
	t     *testing.T
	tt    *tester.Tester
	cfg   cluster.Config
	sink  *memSink
	late  *tester.QueueTracker
	alert *tester.QueueTracker
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, grace time.Duration, sources int) *harness {
	h := &harness{t: t, tt: tester.New(t), cfg: cluster.Config{Brokers: []string{"tester"}, Namespace: "unit.",
		Observer: &outcome.Counts{}}, sink: newMemSink()}
	s := Settings{Windows: windows.Config{Grace: grace}, Sources: sources, Sink: h.sink}
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

// activity feeds one clean activity event with origin raw activity partition rp, offset off; its
// event id is its origin's, so a redelivery is the same event and every other record a new one.
func (h *harness) activity(user string, typ event.ActivityType, at time.Duration, rp int32, off int64) {
	h.event(fmt.Sprintf("e%d/%d", rp, off), user, typ, at, rp, off)
}

// event feeds one clean activity event with event id id and origin rp, off: a copy of an event
// (a repeated replay) has its id and another origin.
func (h *harness) event(id, user string, typ event.ActivityType, at time.Duration, rp int32, off int64) {
	b, err := codecs.Activity{}.Encode(&event.Activity{EventID: id, UserID: user, Type: typ, ProductID: "P1", Time: t0.Add(at)})
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

func (h *harness) minute(at time.Duration) *Minute {
	if v := h.value(minuteKey(0, t0.Add(at).UnixMilli())); v != nil {
		return v.Minute
	}
	return nil
}

// dump is every key of the table with its value as JSON (maps in key order), in key order.
func (h *harness) dump() string {
	tbl := h.cfg.Namespace.Table(Group)
	keys := h.tt.GetTableKeys(tbl)
	slices.Sort(keys)
	var b bytes.Buffer
	for _, k := range keys {
		enc, err := json.Marshal(h.tt.TableValue(tbl, k))
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s = %s\n", k, enc)
	}
	return b.String()
}

// TestDistinctUsersPerWindow: active users and purchasers are distinct per window, events count
// per type, and a redelivered event (same origin) changes nothing.
func TestDistinctUsersPerWindow(t *testing.T) {
	h := newHarness(t, 2*time.Minute, 1)
	h.activity("vA", event.PageView, 5*time.Second, 0, 1)
	h.activity("vA", event.ProductView, 20*time.Second, 0, 2)
	h.activity("vB", event.PageView, 30*time.Second, 0, 3)
	h.activity("vA", event.PageView, 5*time.Second, 0, 1) // redelivery
	h.purchase("vA", 40*time.Second, 0, 7)
	h.purchase("vA", 45*time.Second, 1, 8) // a second line from another raw partition: still one purchaser
	h.purchase("vC", 50*time.Second, 2, 3) // purchases without activity count too
	h.purchase("vC", 50*time.Second, 2, 3) // redelivery
	h.activity("vB", event.Search, 70*time.Second, 0, 4)
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
	if m := h.minute(0); m == nil || m.Closed || fmt.Sprint(m.Buyers) != "[vA vC]" {
		t.Errorf("minute 10:00: %+v", m)
	}
}

// TestWindowsCloseAndLateEvents: once both raw sources are past a window's end plus the grace,
// the window closes; an event for it afterwards is late: it goes to the late topic (again when
// redelivered) and still counts, so the metrics stay exact.
func TestWindowsCloseAndLateEvents(t *testing.T) {
	h := newHarness(t, time.Minute, 2)
	h.activity("vA", event.PageView, 10*time.Second, 0, 1)
	h.activity("vB", event.PageView, 3*time.Minute, 0, 2)
	h.tt.Catchup()
	// Raw partition 1 has not reported: nothing closes.
	if m := h.minute(0); m == nil || m.Closed {
		t.Fatalf("window closed early: %+v", m)
	}
	h.activity("vC", event.PageView, 3*time.Minute+5*time.Second, 1, 1)
	h.tt.Catchup()
	if m := h.minute(0); m == nil || !m.Closed || fmt.Sprint(m.OnTime) != "map[page_view:1]" {
		t.Fatalf("minute 10:00 after both sources passed it: %+v", m)
	}
	if m := h.minute(time.Minute); m == nil || !m.Closed {
		t.Fatalf("empty minute 10:01 not closed: %+v", m)
	}
	if m := h.minute(2 * time.Minute); m != nil && m.Closed {
		t.Fatalf("minute 10:02 closed: watermark 10:03 − grace 1 min is not past its end")
	}
	h.activity("vD", event.PageView, 30*time.Second, 1, 2) // out of order in raw partition 1 beyond the grace
	h.activity("vD", event.PageView, 30*time.Second, 1, 2) // redelivered
	h.tt.Catchup()
	if got := fmt.Sprint(h.sink.get("10:00/0")); got != "{2 0 map[page_view:2]}" {
		t.Errorf("window 10:00 after the late event: %s", got)
	}
	var lates []string
	for {
		k, v, ok := h.late.Next()
		if !ok {
			break
		}
		l := v.(*LateEvent)
		lates = append(lates, fmt.Sprintf("%s %s %s %v", k, l.Type, l.Origin, l.Dropped))
	}
	want := "[vD page_view unit.shopease.activity/1/2 false vD page_view unit.shopease.activity/1/2 false]"
	if fmt.Sprint(lates) != want {
		t.Errorf("late records %v, want %s", lates, want)
	}
	if m := h.minute(0); m.Late != 1 || fmt.Sprint(m.OnTime) != "map[page_view:1]" {
		t.Errorf("minute 10:00: late %d, on time %v", m.Late, m.OnTime)
	}
}

// TestArrivalOrderDoesNotMatter feeds the same events in three interleavings of the raw sources
// (each source in its own order, as a raw partition delivers them; purchase lines of one user
// from several), with redeliveries: the table
// — users, minutes, clocks, spike detector — is identical byte for byte.
func TestArrivalOrderDoesNotMatter(t *testing.T) {
	type ev struct {
		user     string
		purchase bool
		at       time.Duration
		rp       int32
		off      int64
	}
	// Raw activity 0 and 1 (keyed by user: a user's clickstream is one raw partition's), raw
	// transactions (keyed by line: a user's lines are spread over its partitions).
	var src [3][]ev
	for i := range 40 {
		at := time.Duration(i) * 10 * time.Second
		src[i%2] = append(src[i%2], ev{user: fmt.Sprint("v", i%6), at: at, rp: int32(i % 2), off: int64(i)})
		if i%4 == 0 {
			src[2] = append(src[2], ev{user: fmt.Sprint("v", i%5), purchase: true, at: at, rp: int32(i % 3), off: int64(i)})
		}
	}
	feed := func(h *harness, e ev) {
		if e.purchase {
			h.purchase(e.user, e.at, e.rp, e.off)
		} else {
			h.activity(e.user, event.PageView, e.at, e.rp, e.off)
		}
	}
	orders := map[string]func(h *harness){
		"sources in turn": func(h *harness) {
			for i := 0; i < 40; i++ {
				for s := range src {
					if i < len(src[s]) {
						feed(h, src[s][i])
					}
				}
			}
		},
		"one source after another, reversed lines": func(h *harness) {
			for _, e := range src[1] {
				feed(h, e)
			}
			for _, e := range src[0] {
				feed(h, e)
			}
			for i := len(src[2]) - 1; i >= 0; i-- {
				feed(h, src[2][i])
			}
		},
		"with redeliveries": func(h *harness) {
			for i, e := range src[0] {
				feed(h, e)
				if i%3 == 0 {
					feed(h, src[0][i/2]) // an older record again
				}
			}
			for _, e := range append(src[2], src[1]...) {
				feed(h, e)
				feed(h, e)
			}
		},
	}
	dumps := map[string]string{}
	for name, run := range orders {
		h := newHarness(t, time.Minute, 2)
		run(h)
		h.tt.Catchup()
		dumps[name] = h.dump()
	}
	want := dumps["sources in turn"]
	for name, d := range dumps {
		if d != want {
			t.Errorf("%s: table differs:\n%s\nwant\n%s", name, d, want)
		}
	}
	if !bytes.Contains([]byte(want), []byte(`"closed":true`)) {
		t.Errorf("no window closed: the test proves nothing\n%s", want)
	}
}

// TestRedeliveryRefillsTheSink: after a SIGKILL the local table can hold a minute's write that
// Redis never got (RunWith rebuilds Redis from the changelog, which lacks it too); the
// redelivered records find their work done and must still send the minute's counts to the sink.
func TestRedeliveryRefillsTheSink(t *testing.T) {
	h := newHarness(t, 2*time.Minute, 1)
	h.activity("vA", event.PageView, 5*time.Second, 0, 1)
	h.activity("vB", event.Search, 6*time.Second, 0, 2)
	h.purchase("vC", 7*time.Second, 1, 4)
	h.tt.Catchup()
	const want = "{2 1 map[page_view:1 search:1]}"
	if got := fmt.Sprint(h.sink.get("10:00/0")); got != want {
		t.Fatalf("window 10:00 before the crash: %s, want %s", got, want)
	}
	h.sink.mu.Lock()
	clear(h.sink.windows) // the crash lost the sink's unflushed changes
	h.sink.mu.Unlock()
	h.activity("vB", event.Search, 6*time.Second, 0, 2) // redelivered
	h.tt.Catchup()
	if got := fmt.Sprint(h.sink.get("10:00/0")); got != want {
		t.Errorf("window 10:00 after an activity event was redelivered: %s, want %s", got, want)
	}
	h.sink.mu.Lock()
	clear(h.sink.windows)
	h.sink.mu.Unlock()
	h.purchase("vC", 7*time.Second, 1, 4) // redelivered
	h.tt.Catchup()
	if got := fmt.Sprint(h.sink.get("10:00/0")); got != want {
		t.Errorf("window 10:00 after a purchase line was redelivered: %s, want %s", got, want)
	}
}
