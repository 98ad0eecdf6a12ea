package codecs_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// TestDecodeDocumentedForm decodes each type's documented JSON form to the exact struct and checks
// that encoding that struct gives back the same bytes, so the wire format is pinned byte for byte.
func TestDecodeDocumentedForm(t *testing.T) {
	for _, rt := range recordTypes {
		t.Run(rt.name, func(t *testing.T) {
			in := object(rt.fields)
			got, err := rt.codec.Decode(in)
			if err != nil {
				t.Fatalf("Decode(%s): %v", in, err)
			}
			if !reflect.DeepEqual(got, rt.want) {
				t.Fatalf("Decode(%s)\n got %+v\nwant %+v", in, got, rt.want)
			}
			out, err := rt.codec.Encode(got)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("Encode\n got %s\nwant %s", out, in)
			}
		})
	}
}

// roundTrip encodes v (a struct value), checks that the pointer encodes alike, that Decode gives
// want (v with times in UTC), and that encoding/json reads the bytes as the same value and writes
// bytes this package reads as the same value.
func roundTrip[T any](t *testing.T, c goka.Codec, v T, want *T) {
	t.Helper()
	data, err := c.Encode(v)
	if err != nil {
		t.Fatalf("Encode(%+v): %v", v, err)
	}
	dataPtr, err := c.Encode(&v)
	if err != nil || !bytes.Equal(data, dataPtr) {
		t.Fatalf("Encode(&v) = %s, %v; Encode(v) = %s", dataPtr, err, data)
	}
	got, err := c.Decode(data)
	if err != nil {
		t.Fatalf("Decode(%s): %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(Encode(v)) from %s\n got %+v\nwant %+v", data, got, want)
	}
	var std T
	if err := json.Unmarshal(data, &std); err != nil {
		t.Fatalf("encoding/json cannot read %s: %v", data, err)
	}
	if !equalNormalized(&std, want) {
		t.Fatalf("encoding/json reads %s as\n%+v\nwant %+v", data, std, want)
	}
	stdData, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	fromStd, err := c.Decode(stdData)
	if err != nil {
		t.Fatalf("Decode(json.Marshal(v) = %s): %v", stdData, err)
	}
	if !reflect.DeepEqual(fromStd, want) {
		t.Fatalf("Decode(%s)\n got %+v\nwant %+v", stdData, fromStd, want)
	}
}

// equalNormalized compares two records (pointers to event structs) after putting times in UTC and
// treating empty and nil byte slices alike, since encoding/json keeps a time's offset and decodes ""
// to an empty slice where this package gives UTC and nil.
func equalNormalized(a, b any) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

func normalized(p any) any {
	v := reflect.ValueOf(p).Elem()
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	for i := 0; i < c.NumField(); i++ {
		switch f := c.Field(i); x := f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(x.UTC()))
		case []byte:
			if len(x) == 0 {
				f.SetBytes(nil)
			}
		}
	}
	return c.Interface()
}

var (
	nanoTime   = time.Date(2024, 3, 1, 10, 15, 0, 123456789, time.UTC)
	zone       = time.FixedZone("CET", 3600)
	zonedTime  = time.Date(2024, 3, 1, 11, 15, 0, 5000, zone) // 10:15:00.000005 UTC
	firstTime  = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)     // the zero time.Time
	lastTime   = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	hardString = "Tab\t, quote \", backslash \\, NUL \x00, unit sep \x1f, DEL \x7f, <&>, é, 日本, 🛒, \u2028, \ufffd"
)

func TestActivityRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   event.Activity
		want event.Activity // the same as in unless the time was not UTC
	}{
		{name: "documented", in: *recordTypes[0].want.(*event.Activity)},
		{name: "required only, empty ids", in: event.Activity{Type: event.PageView, Time: t0}},
		{name: "every type: search", in: event.Activity{EventID: "a1", Type: event.Search, Query: hardString, Time: nanoTime}},
		{name: "add_to_cart", in: event.Activity{EventID: "a2", Type: event.AddToCart, ProductID: "P1", Time: lastTime}},
		{name: "remove_from_cart", in: event.Activity{EventID: "a3", Type: event.RemoveFromCart, Time: firstTime}},
		{name: "checkout_start", in: event.Activity{EventID: "a4", Type: event.CheckoutStart, Page: "/checkout?x=1&y=<2>", Time: t0}},
		{
			name: "time with zone is sent as UTC",
			in:   event.Activity{EventID: "a5", Type: event.PageView, Time: zonedTime},
			want: event.Activity{EventID: "a5", Type: event.PageView, Time: zonedTime.UTC()},
		},
		{
			name: "monotonic clock reading is dropped",
			in:   event.Activity{EventID: "a6", Type: event.PageView, Time: time.Now()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == (event.Activity{}) {
				want = tt.in
				want.Time = want.Time.Round(0).UTC()
			}
			roundTrip(t, codecs.Activity{}, tt.in, &want)
		})
	}
}

func TestTransactionLineRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   event.TransactionLine
	}{
		{name: "documented", in: *recordTypes[1].want.(*event.TransactionLine)},
		{name: "required only", in: event.TransactionLine{Type: event.Refund, Time: t0}},
		{name: "return with 3 decimals", in: event.TransactionLine{LineID: "C536379-1", OrderID: "C536379", Type: event.Return, Quantity: 1, UnitPrice: 665, Time: nanoTime}},
		{name: "negative price and quantity kept for the gateway", in: event.TransactionLine{LineID: "l", OrderID: "o", Type: event.Purchase, Quantity: -5, UnitPrice: -1, Time: t0}},
		{name: "int64 extremes", in: event.TransactionLine{LineID: "l", OrderID: "o", Type: event.Purchase, Quantity: math.MinInt64, UnitPrice: math.MaxInt64, Time: lastTime}},
		{name: "money minimum", in: event.TransactionLine{LineID: "l", OrderID: "o", Type: event.Purchase, Quantity: math.MaxInt64, UnitPrice: math.MinInt64, Time: firstTime}},
		{name: "free text", in: event.TransactionLine{LineID: "l", OrderID: "o", Type: event.Purchase, Description: hardString, Country: "Côte d'Ivoire", Source: "dir/2011-01-04.csv:17", Time: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			roundTrip(t, codecs.TransactionLine{}, tt.in, &want)
		})
	}
}

func TestInventoryUpdateRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   event.InventoryUpdate
	}{
		{name: "documented", in: *recordTypes[2].want.(*event.InventoryUpdate)},
		{name: "required only, empty sku", in: event.InventoryUpdate{Type: event.Restock, Time: t0}},
		{name: "product info with messy text", in: event.InventoryUpdate{EventID: "i2", Type: event.ProductInfo, SKU: "SKU-001\t", Name: hardString, Category: "kitchen  &dining", Price: "$1,299.00", Cost: "-3", Quantity: "", Time: nanoTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			roundTrip(t, codecs.InventoryUpdate{}, tt.in, &want)
		})
	}
}

func TestReviewRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   event.Review
	}{
		{name: "documented", in: *recordTypes[3].want.(*event.Review)},
		{name: "required only", in: event.Review{Time: t0}},
		{name: "rating out of 1..5 kept for the gateway", in: event.Review{ReviewID: "r", Rating: -7, Time: t0}},
		{name: "int extremes", in: event.Review{ReviewID: "r", Rating: math.MaxInt, Text: hardString, Time: lastTime}},
		{name: "int minimum", in: event.Review{ReviewID: "r", Rating: math.MinInt, Time: firstTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			roundTrip(t, codecs.Review{}, tt.in, &want)
		})
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   event.DeadLetter
	}{
		{name: "documented", in: *recordTypes[4].want.(*event.DeadLetter)},
		{name: "required only", in: event.DeadLetter{Time: t0}},
		{name: "binary original", in: event.DeadLetter{Reason: "bad_encoding", Source: "f.csv:3", Processor: "replay", Original: []byte{0xff, 0xfe, 0, '"', '\n'}, Time: nanoTime}},
		{name: "one-byte key and original", in: event.DeadLetter{Reason: "undecodable", Source: "t/0/1", Key: []byte{0}, Original: []byte{'{'}, Time: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			roundTrip(t, codecs.DeadLetter{}, tt.in, &want)
		})
	}
}

// TestDecodeAccepts pins the liberal corners of the format: what producers may write that the
// encoder itself never does.
func TestDecodeAccepts(t *testing.T) {
	base := recordTypes[1].fields // TransactionLine
	tests := []struct {
		name   string
		in     []byte
		modify func(*event.TransactionLine)
	}{
		{"money as a number literal", object(with(base, "unit_price", `4.95`)), nil},
		{"money with 3 decimals", object(with(base, "unit_price", `"0.665"`)), func(l *event.TransactionLine) { l.UnitPrice = 665 }},
		{"money number with 3 decimals", object(with(base, "unit_price", `-0.665`)), func(l *event.TransactionLine) { l.UnitPrice = -665 }},
		{"money with zeros beyond 3 decimals", object(with(base, "unit_price", `"4.950000"`)), nil},
		{"money integer number", object(with(base, "unit_price", `12`)), func(l *event.TransactionLine) { l.UnitPrice = 12000 }},
		{"time with offset", object(with(base, "time", `"2024-03-01T11:45:00+01:30"`)), nil},
		{"time with negative offset", object(with(base, "time", `"2024-03-01T05:15:00-05:00"`)), nil},
		{"time with nanoseconds", object(with(base, "time", `"2024-03-01T10:15:00.000000001Z"`)), func(l *event.TransactionLine) { l.Time = t0.Add(1) }},
		{"time with one fractional digit", object(with(base, "time", `"2024-03-01T10:15:00.5Z"`)), func(l *event.TransactionLine) { l.Time = t0.Add(500 * time.Millisecond) }},
		{"leap day", object(with(base, "time", `"2024-02-29T00:00:00Z"`)), func(l *event.TransactionLine) { l.Time = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC) }},
		{"optional fields missing", object(without(without(without(base, "user_id"), "quantity"), "unit_price")), func(l *event.TransactionLine) { l.UserID, l.Quantity, l.UnitPrice = "", 0, 0 }},
		{"optional fields null", object(with(with(base, "user_id", "null"), "description", "null")), func(l *event.TransactionLine) { l.UserID, l.Description = "", "" }},
		{"empty required ids", object(with(with(base, "line_id", `""`), "order_id", `""`)), func(l *event.TransactionLine) { l.LineID, l.OrderID = "", "" }},
		{"fields in any order", object(append(base[6:], base[:6]...)), nil},
		{"whitespace everywhere", []byte(" \n{ \"line_id\" : \"o000123-1\" ,\t\"order_id\":\"o000123\",\r\n\"type\":\"purchase\",\"user_id\":\"u00042\",\"product_id\":\"P0007\",\"description\":\"Mug, blue\",\"quantity\": 2 ,\"unit_price\":\"4.95\",\"currency\":\"GBP\",\"country\":\"United Kingdom\",\"time\":\"2024-03-01T10:15:00Z\",\"source\":\"2024-03-01.csv:2\" } \n"), nil},
		{"escapes in keys and values", object(with(with(base, "description", `"Mug\u002c blue"`), "source", `"2024-03-01.csv:2"`)), nil},
		{"escaped key", []byte(`{"line\u005fid":"o000123-1","order_id":"o000123","type":"purchase","user_id":"u00042","product_id":"P0007","description":"Mug, blue","quantity":2,"unit_price":"4.95","currency":"GBP","country":"United Kingdom","time":"2024-03-01T10:15:00Z","source":"2024-03-01.csv:2"}`), nil},
		{"surrogate pair", object(with(base, "description", `"\ud83d\uded2 \u00e9\/"`)), func(l *event.TransactionLine) { l.Description = "🛒 é/" }},
		{"negative zero quantity", object(with(base, "quantity", `-0`)), func(l *event.TransactionLine) { l.Quantity = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := *recordTypes[1].want.(*event.TransactionLine)
			if tt.modify != nil {
				tt.modify(&want)
			}
			got, err := codecs.DecodeTransactionLine(tt.in)
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("Decode(%s)\n got %+v\nwant %+v", tt.in, got, &want)
			}
		})
	}
}

// TestDecodeIntoReuses checks that decoding into a used struct leaves nothing of the old value.
func TestDecodeIntoReuses(t *testing.T) {
	a := *recordTypes[0].want.(*event.Activity)
	in := object([]field{{"event_id", `"b"`}, {"type", `"page_view"`}, {"time", `"2024-03-01T10:15:00Z"`}})
	if err := codecs.DecodeActivityInto(in, &a); err != nil {
		t.Fatal(err)
	}
	want := event.Activity{EventID: "b", Type: event.PageView, Time: t0}
	if a != want {
		t.Errorf("DecodeActivityInto = %+v, want %+v", a, want)
	}
}

func TestAppendAppends(t *testing.T) {
	r := event.Review{ReviewID: "r1", Rating: 4, Time: t0}
	got, err := codecs.AppendReview([]byte("prefix "), &r)
	want := `prefix {"review_id":"r1","user_id":"","product_id":"","rating":4,"time":"2024-03-01T10:15:00Z"}`
	if err != nil || string(got) != want {
		t.Errorf("AppendReview = %s, %v; want %s", got, err, want)
	}
}
