package realtime

import (
	"errors"
	"fmt"
	"testing"

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
