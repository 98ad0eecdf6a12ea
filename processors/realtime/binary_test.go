package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopease/shopease/processors/fence"
)

// TestBinaryRoundTrip: user and minute rows and event notes decode to what was encoded, byte sizes stay
// small, and cut or garbled input is an error, never a wrong value.
func TestBinaryRoundTrip(t *testing.T) {
	users := []*User{
		{},
		{MaxA: 1709287200000, Fence: fence.Vector{{Source: "ns.shopease.activity/3", Offset: 1234567}},
			Active: map[int64]string{1709287200000: "ns.shopease.activity/3/1234560", 1709287140000: "ns.shopease.activity/3/17"}},
		{MaxA: 1709287200000, Fence: fence.Vector{{Source: "ns.shopease.activity/3", Offset: 1234567}},
			Active: map[int64]string{1709287200000: "ns.shopease.activity/3/1234560", 1709287140000: "ns.shopease.activity/3/17"},
			Seen: []Sighting{
				{Window: 1709287140000, ID: eventHash("e1"), Source: "ns.shopease.activity/3", Offset: 17},
				{Window: 1709287200000, ID: eventHash("e2"), Source: "ns.shopease.activity/3", Offset: 1234561},
				{Window: 1709287200000, ID: eventHash("e3"), Source: "ns.shopease.activity/3", Offset: 1234560},
			}},
		{MaxA: -5, Fence: fence.Vector{{Source: "a/0", Offset: 1}, {Source: "b/1", Offset: 2}},
			Active: map[int64]string{0: "b/1/2", 60000: "unknown/9/9"}, // an origin outside the fence: kept verbatim
			Seen:   []Sighting{{Window: 0, ID: 1, Source: "b/1", Offset: 2}, {Window: 60000, ID: 0, Source: "unknown/9", Offset: 9}}},
	}
	sizes := []int{}
	for i, u := range users {
		sizes = append(sizes, roundTrip(t, fmt.Sprint("user ", i), &Value{User: u}))
	}
	// A remembered event id costs 11 to 16 bytes: the window (delta), 8 bytes of id, the source
	// (an index into the fence) and the offset (delta).
	if fmt.Sprint(sizes) != "[5 53 96 68]" {
		t.Errorf("encoded sizes %v", sizes)
	}
	// A row written before event ids were remembered (tag 'U', no sightings) still decodes.
	b, err := ValueCodec{}.Encode(&Value{User: users[1]})
	if err != nil {
		t.Fatal(err)
	}
	old := append([]byte{binUserV1}, b[1:len(b)-1]...) // without the sightings' count
	if got, err := (ValueCodec{}).Decode(old); err != nil || fmt.Sprintf("%+v", got.(*Value).User) != fmt.Sprintf("%+v", users[1]) {
		t.Errorf("old user row: %+v (%v), want %+v", got, err, users[1])
	}
	if _, err := (ValueCodec{}).Decode(append(old, 0)); !errors.Is(err, ErrBinary) {
		t.Errorf("old user row with a trailing byte: %v", err)
	}
	minutes := []*Minute{
		{},
		{Part: 3, Start: 1709287200000, Active: 2, Events: map[string]int64{"page_view": 5, "search": 1},
			Buyers: []string{"v1.a", "v1.b"}, Closed: true, OnTime: map[string]int64{"page_view": 4}, Late: 2,
			LateOrigins: []string{"ns.shopease.activity/0/9"}, Fence: fence.Vector{{Source: "ns.shopease.activity/0", Offset: 9}}},
	}
	for i, m := range minutes {
		roundTrip(t, fmt.Sprint("minute ", i), &Value{Minute: m})
	}
	n := &note{Kind: noteEvent, Input: inputActivity, Origin: "ns.shopease.activity/2/99", Time: 1709287212345,
		Type: "page_view", User: "v1.abc", NewActive: true, Part: 3}
	b, err = noteCodec{}.Encode(n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := noteCodec{}.Decode(b)
	if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", n) {
		t.Errorf("note: %+v (%v), want %+v", got, err, n)
	}
	if _, err := (noteCodec{}).Decode(append(b, 0)); !errors.Is(err, ErrBinary) {
		t.Errorf("note with a trailing byte: %v", err)
	}
	// Other notes stay JSON.
	closeNote, err := noteCodec{}.Encode(&note{Kind: noteClose, Part: 1, Start: 60000})
	if err != nil || string(closeNote) != `{"k":"close","p":1,"s":60000}` {
		t.Errorf("close note %s (%v)", closeNote, err)
	}
}

// roundTrip encodes v, requires it to decode to the same value and every cut of it to fail, and
// returns its encoded size.
func roundTrip(t *testing.T, name string, v *Value) int {
	t.Helper()
	b, err := ValueCodec{}.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ValueCodec{}.Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	g, w := got.(*Value), v
	if fmt.Sprintf("%+v %+v", g.User, g.Minute) != fmt.Sprintf("%+v %+v", w.User, w.Minute) {
		t.Errorf("%s: %+v %+v, want %+v %+v", name, g.User, g.Minute, w.User, w.Minute)
	}
	for cut := 1; cut < len(b); cut++ {
		if _, err := (ValueCodec{}).Decode(b[:cut]); !errors.Is(err, ErrBinary) {
			t.Errorf("%s cut at %d: %v, want ErrBinary", name, cut, err)
		}
	}
	return len(b)
}

// TestSpikeRowRoundTrip: the spike detector's row decodes to what was encoded (the waiting
// minutes included, in start order), a row written as JSON before the binary form decodes to the
// same state, its JSON form is unchanged, and cut or garbled input is an error.
func TestSpikeRowRoundTrip(t *testing.T) {
	const size = int64(60000)
	s := &SpikeState{Parts: 3, Detector: Detector{Rule: DefaultSpikeRule}}
	s.start(0, 1709287200000, size)
	s.start(2, 1709287200000+size, size)
	for _, m := range []struct {
		start  int64
		events map[string]int64
	}{
		{1709287200000 + 5*size, map[string]int64{"page_view": 7, "search": 2}},
		{1709287200000 + 3*size, map[string]int64{"add_to_cart": 1}},
		{1709287200000 + 9*size, nil},
		{1709287200000 + 3*size, map[string]int64{"add_to_cart": 4, "page_view": 1}}, // again: replaces
	} {
		if judged, again := s.complete(m.start, Counts{Events: m.events}, size); len(judged)+len(again) != 0 {
			t.Fatalf("alerts before every partition started: %v %v", judged, again)
		}
	}
	s.Detector.Baselines = map[string]*Baseline{"events": {N: 61, Mean: 12.5, Var: 3.25}, "events:search": {N: 2, Mean: 0.1}}
	s.Alerts = []Alert{{Window: time.UnixMilli(1709287140000).UTC(), Metric: "events", Observed: 400, Expected: 12.5, Score: 31.07}}

	want := `{"parts":3,"starts":{"0":1709287200000,"2":1709287260000},` +
		`"ready":{"1709287380000":{"a":0,"p":0,"e":{"add_to_cart":4,"page_view":1}},"1709287500000":{"a":0,"p":0,"e":{"page_view":7,"search":2}},"1709287740000":{"a":0,"p":0}},` +
		`"done":0,"detector":{"rule":{"alpha":0.1,"k":4,"m":3,"floor":50,"warm_up":60},"baselines":{"events":{"n":61,"mean":12.5,"var":3.25},"events:search":{"n":2,"mean":0.1,"var":0}}},` +
		`"alerts":[{"window":"2024-03-01T09:59:00Z","metric":"events","observed":400,"expected":12.5,"score":31.07}]}`
	j, err := json.Marshal(s)
	if err != nil || string(j) != want {
		t.Fatalf("JSON form %s (%v),\nwant %s", j, err, want)
	}
	b, err := ValueCodec{}.Encode(&Value{Spikes: s})
	if err != nil || b[0] != binSpikes {
		t.Fatalf("encode: %q (%v)", b, err)
	}
	t.Logf("%d bytes binary, %d as JSON", len(b), len(j))
	got, err := ValueCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if j2, _ := json.Marshal(got.(*Value).Spikes); string(j2) != want {
		t.Errorf("decoded %s,\nwant    %s", j2, want)
	}
	old, err := ValueCodec{}.Decode([]byte(`{"spikes":` + want + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if j3, _ := json.Marshal(old.(*Value).Spikes); string(j3) != want {
		t.Errorf("JSON row decoded %s,\nwant    %s", j3, want)
	}
	for cut := 1; cut < len(b); cut++ {
		if _, err := (ValueCodec{}).Decode(b[:cut]); !errors.Is(err, ErrBinary) {
			t.Errorf("cut at %d: %v, want ErrBinary", cut, err)
		}
	}
	if _, err := (ValueCodec{}).Decode(append(b, 0)); !errors.Is(err, ErrBinary) {
		t.Errorf("trailing byte: %v", err)
	}

	// The last partition starts: minutes before its start are dropped, the rest judged in order
	// as they become contiguous.
	d := got.(*Value).Spikes
	d.start(1, 1709287200000+3*size, size)
	if d.Done != 1709287200000+4*size || d.Ready.Len() != 2 {
		t.Errorf("after the last start: done %d, %d waiting; want the 10:03 minute judged and 2 waiting", d.Done, d.Ready.Len())
	}
	if b := d.Detector.Baselines["events"]; b.N != 62 {
		t.Errorf("events baseline %+v: the 10:03 minute was not observed", b)
	}

	// Once nothing waits, the row does not depend on the order in which types first waited.
	rows := map[string]bool{}
	for _, order := range [][]int64{{2, 3}, {3, 2}} {
		s := &SpikeState{Parts: 1, Detector: Detector{Rule: DefaultSpikeRule}}
		s.start(0, 0, size)
		for _, m := range order {
			s.complete(m*size, Counts{Events: map[string]int64{map[int64]string{2: "search", 3: "page_view"}[m]: 1}}, size)
		}
		if len(s.Ready.types) != 2 {
			t.Fatalf("order %v: types %v while two minutes wait", order, s.Ready.types)
		}
		s.complete(size, Counts{}, size)
		s.complete(0, Counts{}, size)
		if s.Ready.Len() != 0 || s.Done != 4*size {
			t.Fatalf("order %v: %d waiting, done %d", order, s.Ready.Len(), s.Done)
		}
		rows[string(encodeSpikes(s))] = true
	}
	if len(rows) != 1 {
		t.Errorf("%d different rows for the same judged minutes", len(rows))
	}
}
