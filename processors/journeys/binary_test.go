package journeys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// codecUsers are values the table holds: an empty one, a user with activity, pending and released
// orders, a schedule key, and the corners (zero times, an unknown activity type, nil and set
// SecondsToPurchase, a journey of another user id, sub-second times).
func codecUsers() map[string]*User {
	t := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	secs := int64(90)
	return map[string]*User{
		"empty": {},
		"user": {
			Fence: fence.Vector{{Source: "raw.activity/0", Offset: 7}, {Source: "raw.transactions/1", Offset: 3}},
			Events: []Event{
				{At: t, ID: "a20240301-0000001", Type: event.PageView, SessionID: "s1", Referrer: "email"},
				{At: t.Add(30 * time.Second), ID: "a20240301-0000002", Type: event.ProductView, ProductID: "P1", SessionID: "s1", Referrer: "email"},
				{At: t.Add(30*time.Second + 250*time.Millisecond), ID: "b7", Type: "future_type", SessionID: "s2"},
				{At: t.Add(2 * time.Hour), ID: "a20240301-0000003", Type: event.CheckoutStart},
			},
			ActivityMark: t.Add(2 * time.Hour),
			Pending: []Purchase{{OrderID: "o2", At: t.Add(time.Hour), Origin: "raw.transactions/1/3",
				Products: []string{"P1", "P2"}, Lines: 2, Units: 5, Amount: 12_950}},
			Done: []Done{
				{Journey: Journey{UserID: "u1", OrderID: "o0", PurchaseTime: t.Add(-time.Hour), Bought: []string{"P9"},
					Lines: 1, Units: 1, Amount: -5}, Origin: "raw.transactions/0/1"},
				{Journey: Journey{UserID: "u1", OrderID: "o1", PurchaseTime: t.Add(time.Minute), SessionID: "s1",
					SessionStart: t, SessionSeconds: 60, Events: 2, PageViews: 1, ProductViews: 1, CartAdds: 0,
					Viewed: []string{"P1"}, Bought: []string{"P1"}, ViewedThenBought: 1, SecondsToPurchase: &secs,
					EntryReferrer: "email", Lines: 1, Units: 2, Amount: 3_900}, Origin: "raw.transactions/1/2"},
				{Journey: Journey{UserID: "", OrderID: "o1b", PurchaseTime: t.Add(2 * time.Minute)}, Origin: "x"},
			},
		},
		"schedule": {
			Clocks: []fence.Mark{{Source: "raw.activity/0", Offset: t.UnixNano()}, {Source: "raw.activity/1", Offset: 0}},
			Orders: []OrderMark{{Source: "raw.transactions/0", Order: "o9"}},
			Ends:   []End{{Source: "raw.activity/0", Marker: 12, Want: 12, Seen: 0}, {Source: "raw.transactions/0", Seen: 4}},
			Timers: []Timer{{User: "u1", Order: "o2", Due: t.Add(time.Hour + Bound + Slack)}, {User: "u2", Order: "o3", Due: t, Passed: true}},
		},
	}
}

// TestUserCodecRoundTrip: every value decodes to itself, from the binary form and from the JSON
// form that tables written before hold.
func TestUserCodecRoundTrip(t *testing.T) {
	for name, u := range codecUsers() {
		t.Run(name, func(t *testing.T) {
			b, err := UserCodec{}.Encode(u)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != binUser {
				t.Fatalf("encoded value starts with %q, want %q", b[0], binUser)
			}
			got, err := UserCodec{}.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, u) {
				t.Fatalf("binary round trip:\n got %+v\nwant %+v", got, u)
			}
			js, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := UserCodec{}.Decode(js)
			if err != nil {
				t.Fatal(err)
			}
			// JSON drops the location of the zero time and of nothing else: compare as JSON.
			again, _ := json.Marshal(fromJSON)
			if string(again) != string(js) {
				t.Fatalf("JSON value:\n got %s\nwant %s", again, js)
			}
		})
	}
}

// TestUserCodecGolden pins the format: a value's exact bytes (what tables written now hold must
// decode in every later build), and the size of a generated-like user keeping 400 events, which
// was 55,380 bytes as JSON.
func TestUserCodecGolden(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	u := &User{
		Fence: fence.Vector{{Source: "a/0", Offset: 5}},
		Events: []Event{
			{At: at, ID: "a1", Type: event.PageView, SessionID: "s1", Referrer: "email"},
			{At: at.Add(30*time.Second + 500*time.Millisecond), ID: "a2", Type: event.ProductView, ProductID: "P1", SessionID: "s1", Referrer: "email"},
		},
		ActivityMark: at.Add(30*time.Second + 500*time.Millisecond),
	}
	// 'J'; fence: 1 mark, "a/0", offset 5 (zigzag 0a); ActivityMark: Unix seconds 1709287230
	// (zigzag varint fc9c8dde0c) and 500,000,000 ns (80cab5ee01); 2 events: the first at
	// +1709287200 s, 0 ns, id "a1" sharing 0 bytes, type 1 (page view), no product, session "s1"
	// and referrer "email" as length + 1; the second at +30 s (3c) and 500,000,000 ns, id sharing
	// 1 byte then "2", type 2, product "P1", session and referrer the same (00); no pending, done,
	// clocks, orders, ends or timers.
	const want = "4a" + "0103612f300a" + "fc9c8dde0c" + "80cab5ee01" +
		"02" + "c09c8dde0c" + "00" + "00026131" + "01" + "00" + "03733106656d61696c" +
		"3c" + "80cab5ee01" + "010132" + "02" + "025031" + "00" + "00" +
		"00" + "00" + "00000000"
	b, err := UserCodec{}.Encode(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	if len(b) != 60 {
		t.Fatalf("%d bytes, want 60", len(b))
	}
	big, err := UserCodec{}.Encode(benchUser(400))
	if err != nil {
		t.Fatal(err)
	}
	if len(big) != 6696 {
		t.Fatalf("user keeping 400 events: %d bytes, want 6696", len(big))
	}
}

// TestUserCodecRejects: a value that is neither JSON nor a complete binary value is an error
// wrapping ErrBinary, never a panic nor a partial value.
func TestUserCodecRejects(t *testing.T) {
	good, err := UserCodec{}.Encode(codecUsers()["user"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown tag", []byte("X\x00")},
		{"tag alone", []byte("J")},
		{"trailing byte", append(append([]byte{}, good...), 0)},
		{"huge count", []byte("J\xff\xff\xff\xff\x0f")},
		{"nanoseconds of a second", []byte("J\x00\x00\x80\x94\xeb\xdc\x03\x00\x00\x00\x00\x00\x00\x00")},
		{"activity type out of range", []byte("J\x00\x00\x00\x01\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"id prefix longer than the previous id", []byte("J\x00\x00\x00\x01\x00\x00\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"bool not 0 or 1", func() []byte {
			b, _ := UserCodec{}.Encode(&User{Timers: []Timer{{User: "u", Order: "o"}}})
			b[len(b)-1] = 2
			return b
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := UserCodec{}.Decode(tc.b)
			if !errors.Is(err, ErrBinary) {
				t.Fatalf("Decode = %v, %v; want ErrBinary", v, err)
			}
		})
	}
	// The hand-made values above fail for the byte they name: with it fixed they decode (the type
	// and the prefix cases fix to the same bytes).
	for _, b := range []string{
		"J\x00\x00\x00\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		"J\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
	} {
		if _, err := (UserCodec{}).Decode([]byte(b)); err != nil {
			t.Fatalf("%x: %v", b, err)
		}
	}
	// Every cut of a valid value is incomplete.
	for n := range len(good) {
		if _, err := (UserCodec{}).Decode(good[:n]); !errors.Is(err, ErrBinary) {
			t.Fatalf("first %d of %d bytes: %v, want ErrBinary", n, len(good), err)
		}
	}
}

// TestUserCodecArbitraryBytes: random corruptions of valid values never panic; what decodes
// encodes and decodes to itself again.
func TestUserCodecArbitraryBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var seeds [][]byte
	for _, u := range codecUsers() {
		b, _ := UserCodec{}.Encode(u)
		seeds = append(seeds, b)
	}
	decoded := 0
	for range 20_000 {
		b := append([]byte{}, seeds[r.IntN(len(seeds))]...)
		for range 1 + r.IntN(4) {
			switch i := r.IntN(len(b)); r.IntN(3) {
			case 0:
				b[i] = byte(r.Uint32())
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{byte(r.Uint32())}, b[i:]...)...)
			}
			if len(b) == 0 {
				b = []byte{binUser}
			}
		}
		if checkDecodes(t, b) {
			decoded++
		}
	}
	if decoded == 0 {
		t.Fatal("no corrupted value decoded: the test only sees errors")
	}
}

// checkDecodes decodes b; if it decodes, the value must survive a round trip. A JSON value may
// hold empty lists ("events":[]) that the binary form decodes as nil, as omitempty writes them:
// for JSON the binary forms must be equal.
func checkDecodes(t *testing.T, b []byte) bool {
	t.Helper()
	v, err := UserCodec{}.Decode(b)
	if err != nil {
		return false
	}
	again, err := UserCodec{}.Encode(v)
	if err != nil {
		t.Fatalf("%x decodes but does not encode: %v", b, err)
	}
	w, err := UserCodec{}.Decode(again)
	if err != nil {
		t.Fatalf("%x: decoded %+v, its encoding %x does not: %v", b, v, again, err)
	}
	if b[0] == '{' {
		if third, _ := (UserCodec{}).Encode(w); !bytes.Equal(third, again) {
			t.Fatalf("%x: encoded %x, after a round trip %x", b, again, third)
		}
		return true
	}
	if !reflect.DeepEqual(v, w) {
		t.Fatalf("%x: decoded %+v, after a round trip %+v", b, v, w)
	}
	return true
}

// FuzzUserCodec: go test -fuzz FuzzUserCodec ./processors/journeys/ (the seeds run in every test run).
func FuzzUserCodec(f *testing.F) {
	for _, u := range codecUsers() {
		b, _ := UserCodec{}.Encode(u)
		f.Add(b)
		js, _ := json.Marshal(u)
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodes(t, b)
	})
}

// TestUserCodecCoversEveryField: the binary form writes each field by name, so a field added to
// the value (or to a type it holds) would be dropped silently on the next write. Add it to
// encodeUser and decodeUser (and codecUsers), then here.
func TestUserCodecCoversEveryField(t *testing.T) {
	for _, tc := range []struct {
		v      any
		fields int
	}{
		{User{}, 9}, {Event{}, 6}, {Purchase{}, 7}, {Done{}, 2}, {Journey{}, 18},
		{Timer{}, 4}, {End{}, 4}, {OrderMark{}, 2}, {fence.Mark{}, 2},
	} {
		if n := reflect.TypeOf(tc.v).NumField(); n != tc.fields {
			t.Errorf("%T has %d fields, the binary form writes %d", tc.v, n, tc.fields)
		}
	}
}
