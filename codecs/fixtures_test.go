package codecs_test

import (
	"strings"
	"time"

	"github.com/lovoo/goka"
	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// Every codec is a goka.Codec, as a value and as a pointer.
var (
	_ goka.Codec = codecs.Activity{}
	_ goka.Codec = &codecs.TransactionLine{}
	_ goka.Codec = codecs.InventoryUpdate{}
	_ goka.Codec = codecs.Review{}
	_ goka.Codec = codecs.DeadLetter{}
)

// field is one JSON member of a test record; value is raw JSON.
type field struct{ name, value string }

// recordType describes one record type for the tests that run over every type alike.
type recordType struct {
	name     string
	codec    goka.Codec
	fields   []field  // a valid record, in the encoder's order
	strings  []string // fields whose JSON kind is string
	required []string
	want     any // the decoded value of fields
}

// object renders fields as a JSON object.
func object(fields []field) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f.name + `":` + f.value)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// without returns fields minus the one named name.
func without(fields []field, name string) []field {
	var out []field
	for _, f := range fields {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// with returns fields with the value of name replaced (or the field appended).
func with(fields []field, name, value string) []field {
	out := append([]field(nil), fields...)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	return append(out, field{name, value})
}

var t0 = time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC)

var recordTypes = []recordType{
	{
		name:  "Activity",
		codec: codecs.Activity{},
		fields: []field{
			{"event_id", `"a0000001"`}, {"user_id", `"u00042"`}, {"session_id", `"s000017"`},
			{"type", `"product_view"`}, {"product_id", `"P0007"`}, {"page", `"/p/P0007"`},
			{"referrer", `"search"`}, {"query", `"blue mug"`}, {"time", `"2024-03-01T10:15:00Z"`},
		},
		strings:  []string{"event_id", "user_id", "session_id", "type", "product_id", "page", "referrer", "query", "time"},
		required: []string{"event_id", "type", "time"},
		want: &event.Activity{EventID: "a0000001", UserID: "u00042", SessionID: "s000017",
			Type: event.ProductView, ProductID: "P0007", Page: "/p/P0007", Referrer: "search",
			Query: "blue mug", Time: t0},
	},
	{
		name:  "TransactionLine",
		codec: codecs.TransactionLine{},
		fields: []field{
			{"line_id", `"o000123-1"`}, {"order_id", `"o000123"`}, {"type", `"purchase"`},
			{"user_id", `"u00042"`}, {"product_id", `"P0007"`}, {"description", `"Mug, blue"`},
			{"quantity", `2`}, {"unit_price", `"4.95"`}, {"currency", `"GBP"`},
			{"country", `"United Kingdom"`}, {"time", `"2024-03-01T10:15:00Z"`},
			{"source", `"2024-03-01.csv:2"`},
		},
		strings: []string{"line_id", "order_id", "type", "user_id", "product_id", "description",
			"currency", "country", "time", "source"},
		required: []string{"line_id", "order_id", "type", "time"},
		want: &event.TransactionLine{LineID: "o000123-1", OrderID: "o000123", Type: event.Purchase,
			UserID: "u00042", ProductID: "P0007", Description: "Mug, blue", Quantity: 2,
			UnitPrice: 4950, Currency: "GBP", Country: "United Kingdom", Time: t0,
			Source: "2024-03-01.csv:2"},
	},
	{
		name:  "InventoryUpdate",
		codec: codecs.InventoryUpdate{},
		fields: []field{
			{"event_id", `"i000001"`}, {"type", `"stock_report"`}, {"sku", `" p0007 "`},
			{"name", `"Mug"`}, {"category", `"Kitchen & Dining"`}, {"price", `"$4.95"`},
			{"cost", `"2.10"`}, {"quantity", `"12 pcs"`}, {"time", `"2024-03-01T10:15:00Z"`},
			{"source", `"2024-03-01.csv:2"`},
		},
		strings: []string{"event_id", "type", "sku", "name", "category", "price", "cost", "quantity",
			"time", "source"},
		required: []string{"event_id", "type", "sku", "time"},
		want: &event.InventoryUpdate{EventID: "i000001", Type: event.StockReport, SKU: " p0007 ",
			Name: "Mug", Category: "Kitchen & Dining", Price: "$4.95", Cost: "2.10",
			Quantity: "12 pcs", Time: t0, Source: "2024-03-01.csv:2"},
	},
	{
		name:  "Review",
		codec: codecs.Review{},
		fields: []field{
			{"review_id", `"r000001"`}, {"user_id", `"u00042"`}, {"product_id", `"P0007"`},
			{"rating", `5`}, {"title", `"Great"`}, {"text", `"Holds \"a lot\" of tea.\n"`},
			{"time", `"2024-03-01T10:15:00Z"`}, {"source", `"2024-03-02.ndjson:1"`},
		},
		strings:  []string{"review_id", "user_id", "product_id", "title", "text", "time", "source"},
		required: []string{"review_id", "time"},
		want: &event.Review{ReviewID: "r000001", UserID: "u00042", ProductID: "P0007", Rating: 5,
			Title: "Great", Text: "Holds \"a lot\" of tea.\n", Time: t0, Source: "2024-03-02.ndjson:1"},
	},
	{
		name:  "DeadLetter",
		codec: codecs.DeadLetter{},
		fields: []field{
			{"reason", `"missing_user"`}, {"detail", `"user_id is empty"`},
			{"source", `"shopease.transactions/3/1234"`}, {"processor", `"transactions"`},
			{"dataset", `"transactions"`}, {"key", `"bzAwMDEyMy0x"`}, {"original", `"eyJ4IjoxfQ=="`},
			{"time", `"2024-03-01T10:15:00Z"`},
		},
		strings:  []string{"reason", "detail", "source", "processor", "dataset", "key", "original", "time"},
		required: []string{"reason", "source", "time"},
		want: &event.DeadLetter{Reason: "missing_user", Detail: "user_id is empty",
			Source: "shopease.transactions/3/1234", Processor: "transactions", Dataset: "transactions",
			Key: []byte("o000123-1"), Original: []byte(`{"x":1}`), Time: t0},
	},
}
