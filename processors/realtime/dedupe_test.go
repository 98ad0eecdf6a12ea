package realtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/outcome"
)

// replayed is one activity event of a history as a raw partition holds it: the event, and the
// raw offset of this copy.
type replayed struct {
	id   string
	user string
	typ  event.ActivityType
	at   time.Duration
	rp   int32
	off  int64
}

// replayHistory is 40 activity events of 5 users over about 7 minutes, on two raw partitions (a
// user's on one: the raw topic is keyed by user), in event-time order per raw partition.
func replayHistory() [2][]replayed {
	types := []event.ActivityType{event.PageView, event.ProductView, event.Search, event.AddToCart, event.PageView}
	var h [2][]replayed
	for i := range 40 {
		u := (i*i + i/4) % 5
		rp := int32(u % 2)
		h[rp] = append(h[rp], replayed{id: fmt.Sprint("ev", i), user: fmt.Sprint("v", u), typ: types[i%len(types)],
			at: time.Duration(i) * 11 * time.Second, rp: rp})
	}
	return h
}

// replays merges copies of one raw partition's events as replays sending at the given paces (one
// event every pace steps; a replay that starts later adds to its pace) would leave them on the
// raw partition, and numbers the offsets in that order.
func replays(events []replayed, paces ...int) []replayed {
	type slot struct {
		at, replay int
		e          replayed
	}
	var all []slot
	for r, pace := range paces {
		for j, e := range events {
			all = append(all, slot{at: j*pace + r, replay: r, e: e})
		}
	}
	slices.SortStableFunc(all, func(a, b slot) int { return a.at*len(paces) + a.replay - (b.at*len(paces) + b.replay) })
	out := make([]replayed, len(all))
	for i, s := range all {
		out[i] = s.e
		out[i].off = int64(i)
	}
	return out
}

// TestRepeatedReplayCountsOnce: the same history on the raw activity topic two or three times
// (replayed again, or three replays at once: every event at two or three offsets of its raw
// partition) gives exactly the metrics of one replay — active users and events per type per
// minute, the activity each minute closed with, no late records — also when copies and
// originals are delivered again. The copies are counted as duplicates.
func TestRepeatedReplayCountsOnce(t *testing.T) {
	hist := replayHistory()
	// The truth, from the history alone: distinct users and events per type per minute.
	truth := map[string]string{}
	users, events := map[string]map[string]bool{}, map[string]map[string]int64{}
	for _, rp := range hist {
		for _, e := range rp {
			k := t0.Add(e.at).Truncate(time.Minute).Format("15:04") + "/0"
			if users[k] == nil {
				users[k], events[k] = map[string]bool{}, map[string]int64{}
			}
			users[k][e.user] = true
			events[k][string(e.typ)]++
		}
	}
	for k := range users {
		truth[k] = fmt.Sprint(Counts{Active: int64(len(users[k])), Events: events[k]})
	}
	if len(truth) != 8 || truth["10:01/0"] != "{4 0 map[add_to_cart:1 page_view:2 product_view:1 search:1]}" {
		t.Fatalf("the history is not the one the test was written for: %v", truth)
	}

	type feed struct {
		raw        [2][]replayed // per raw partition, in offset order
		redeliver  bool          // after each record of a copy, that record and the original again
		wantCopies int64
	}
	feeds := map[string]feed{
		"one replay":            {raw: [2][]replayed{replays(hist[0], 1), replays(hist[1], 1)}},
		"replayed again":        {raw: [2][]replayed{replays(hist[0], 1, 1000), replays(hist[1], 1, 1000)}, wantCopies: 40},
		"three replays at once": {raw: [2][]replayed{replays(hist[0], 3, 2, 5), replays(hist[1], 2, 3, 1)}, wantCopies: 80},
		"replayed again, redelivered": {raw: [2][]replayed{replays(hist[0], 1, 1000), replays(hist[1], 1, 1000)},
			redeliver: true, wantCopies: 40},
	}
	projections := map[string]string{}
	for name, f := range feeds {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, time.Minute, 2)
			seen := map[string]replayed{} // event id → its first origin
			deliver := func(e replayed) {
				h.event(e.id, e.user, e.typ, e.at, e.rp, e.off)
				first, ok := seen[e.id]
				if !ok {
					seen[e.id] = e
				} else if f.redeliver {
					h.event(e.id, e.user, e.typ, e.at, e.rp, e.off)                         // the copy again
					h.event(first.id, first.user, first.typ, first.at, first.rp, first.off) // and the original
				}
			}
			// The raw partitions in turn, each in its own order.
			for i := 0; i < max(len(f.raw[0]), len(f.raw[1])); i++ {
				for _, rp := range f.raw {
					if i < len(rp) {
						deliver(rp[i])
					}
				}
			}
			h.tt.Catchup()

			got := map[string]string{}
			h.sink.mu.Lock()
			for k, c := range h.sink.windows {
				got[k] = fmt.Sprint(c)
			}
			h.sink.mu.Unlock()
			if !maps.Equal(got, truth) {
				t.Errorf("windows in the sink:\n%v\nwant\n%v", got, truth)
			}
			var lates []string
			for {
				k, v, ok := h.late.Next()
				if !ok {
					break
				}
				lates = append(lates, fmt.Sprintf("%s %+v", k, v))
			}
			if len(lates) != 0 {
				t.Errorf("late records: %v", lates)
			}
			// Redeliveries are not read again; copies are duplicates.
			want := map[outcome.Outcome]int64{outcome.Accepted: 40}
			if f.wantCopies > 0 {
				want[outcome.Duplicate] = f.wantCopies
			}
			if counts := h.cfg.Observer.(*outcome.Counts).Of(Processor); !maps.Equal(counts, want) {
				t.Errorf("outcomes %v, want %v", counts, want)
			}
			projections[name] = h.project()
		})
	}
	want := projections["one replay"]
	if strings.Count(want, `"Closed":true`) != 6 {
		t.Errorf("one replay closed not 6 minutes (the test would prove less):\n%s", want)
	}
	for name, p := range projections {
		if p != want {
			t.Errorf("%s: the table's minutes, clocks and detector differ from one replay's:\n%s\nwant\n%s", name, p, want)
		}
	}
}

// project is the table without what holds raw offsets (user rows, fences, late origins), which
// differ by construction between a history on the raw topic once and more than once.
func (h *harness) project() string {
	tbl := h.cfg.Namespace.Table(Group)
	keys := h.tt.GetTableKeys(tbl)
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v, _ := h.tt.TableValue(tbl, k).(*Value)
		if v == nil || v.User != nil {
			continue
		}
		var out any = v
		if m := v.Minute; m != nil {
			out = struct {
				Part                int32
				Start, Active, Late int64
				Events, OnTime      map[string]int64
				Buyers              []string
				Closed              bool
			}{m.Part, m.Start, m.Active, m.Late, m.Events, m.OnTime, m.Buyers, m.Closed}
		}
		enc, err := json.Marshal(out)
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s = %s\n", k, enc)
	}
	return b.String()
}
