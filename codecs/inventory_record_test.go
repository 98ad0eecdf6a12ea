package codecs_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

func moneyPtr(s string) *event.Money { m := event.MustMoney(s); return &m }

// inventoryRecordType is a valid clean record in the encoder's field order.
var inventoryRecordType = recordType{
	name:  "InventoryRecord",
	codec: codecs.InventoryRecord{},
	fields: []field{
		{"event_id", `"i20240301-000001"`}, {"type", `"product_info"`}, {"sku", `"P0007"`},
		{"name", `"Mug, blue"`}, {"category", `"Home & Kitchen"`}, {"price", `"1299.00"`},
		{"cost", `"0.665"`}, {"units", `0`}, {"time", `"2024-03-01T10:15:00Z"`},
		{"source", `"2024-03-01.csv:2"`},
	},
	strings:  []string{"event_id", "sku", "name", "category", "source"},
	required: []string{"event_id", "type", "sku", "time"},
	want: &event.InventoryRecord{EventID: "i20240301-000001", Type: event.ProductInfo, SKU: "P0007",
		Name: "Mug, blue", Category: "Home & Kitchen", Price: moneyPtr("1299"), Cost: moneyPtr("0.665"),
		Time: t0, Source: "2024-03-01.csv:2"},
}

func TestInventoryRecordRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		rec  event.InventoryRecord
		json string
	}{
		{"product info", *inventoryRecordType.want.(*event.InventoryRecord),
			`{"event_id":"i20240301-000001","type":"product_info","sku":"P0007","name":"Mug, blue","category":"Home & Kitchen","price":"1299.00","cost":"0.665","units":0,"time":"2024-03-01T10:15:00Z","source":"2024-03-01.csv:2"}`},
		{"stock report without money", event.InventoryRecord{EventID: "i2", Type: event.StockReport, SKU: "P1", Units: 10_000_000, Time: t0},
			`{"event_id":"i2","type":"stock_report","sku":"P1","units":10000000,"time":"2024-03-01T10:15:00Z"}`},
		{"zero price is a price", event.InventoryRecord{EventID: "", Type: event.Restock, SKU: "P1", Price: moneyPtr("0"), Time: t0.Add(123)},
			`{"event_id":"","type":"restock","sku":"P1","price":"0.00","units":0,"time":"2024-03-01T10:15:00.000000123Z"}`},
		{"escapes", event.InventoryRecord{EventID: "i\"3", Type: event.Restock, SKU: "É\n", Name: "日本", Time: t0},
			`{"event_id":"i\"3","type":"restock","sku":"É\n","name":"日本","units":0,"time":"2024-03-01T10:15:00Z"}`},
	}
	for _, c := range cases {
		b, err := codecs.InventoryRecord{}.Encode(c.rec)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		if string(b) != c.json {
			t.Errorf("%s: encoded\n %s\nwant\n %s", c.name, b, c.json)
		}
		v, err := codecs.InventoryRecord{}.Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		if !reflect.DeepEqual(v, &c.rec) {
			t.Errorf("%s: round trip %+v, want %+v", c.name, v, c.rec)
		}
	}
}

func TestInventoryRecordStrict(t *testing.T) {
	fs := inventoryRecordType.fields
	cases := []struct {
		name  string
		data  []byte
		err   error
		field string
	}{
		{"negative units", object(with(fs, "units", `-1`)), codecs.ErrBadValue, "units"},
		{"fractional units", object(with(fs, "units", `1.5`)), codecs.ErrBadValue, "units"},
		{"negative price", object(with(fs, "price", `"-0.01"`)), codecs.ErrBadValue, "price"},
		{"negative cost", object(with(fs, "cost", `"-1"`)), codecs.ErrBadValue, "cost"},
		{"price as number", object(with(fs, "price", `4.95`)), codecs.ErrWrongType, "price"},
		{"price with a symbol", object(with(fs, "price", `"$4.95"`)), codecs.ErrBadValue, "price"},
		{"unknown type", object(with(fs, "type", `"Stock Report"`)), codecs.ErrBadValue, "type"},
		{"missing sku", object(without(fs, "sku")), codecs.ErrMissingField, "sku"},
		{"raw quantity field", object(with(fs, "quantity", `"12 pcs"`)), codecs.ErrUnknownField, "quantity"},
		{"trailing", append(object(fs), ' ', '1'), codecs.ErrSyntax, ""},
	}
	for _, c := range cases {
		v, err := codecs.DecodeInventoryRecord(c.data)
		var fe *codecs.FieldError
		if v != nil || !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field || fe.Type != "InventoryRecord" {
			t.Errorf("%s: %+v, %v; want %v on field %q", c.name, v, err, c.err, c.field)
		}
	}
	bad := []struct {
		name  string
		rec   event.InventoryRecord
		field string
	}{
		{"unknown type", event.InventoryRecord{Type: "hover", Time: t0}, "type"},
		{"negative units", event.InventoryRecord{Type: event.Restock, Units: -3, Time: t0}, "units"},
		{"negative price", event.InventoryRecord{Type: event.ProductInfo, Price: moneyPtr("-1"), Time: t0}, "price"},
		{"negative cost", event.InventoryRecord{Type: event.ProductInfo, Cost: moneyPtr("-1"), Time: t0}, "cost"},
		{"invalid UTF-8", event.InventoryRecord{Type: event.Restock, SKU: "\xff", Time: t0}, "sku"},
		{"year 0", event.InventoryRecord{Type: event.Restock, Time: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}, "time"},
	}
	for _, c := range bad {
		b, err := codecs.AppendInventoryRecord([]byte("x"), &c.rec)
		var fe *codecs.FieldError
		if string(b) != "x" || !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, codecs.ErrBadValue) {
			t.Errorf("encode %s: %q, %v; want dst unchanged and ErrBadValue on %q", c.name, b, err, c.field)
		}
	}
	if _, err := (codecs.InventoryRecord{}).Encode(event.InventoryUpdate{}); !errors.Is(err, codecs.ErrUnsupportedType) {
		t.Errorf("encode of another type: %v", err)
	}
}

func FuzzDecodeInventoryRecord(f *testing.F) {
	f.Add(object(inventoryRecordType.fields))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode[event.InventoryRecord](t, "InventoryRecord", codecs.InventoryRecord{}, data)
	})
}

// TestInventoryRecordSeedCorpus keeps the committed seed corpus of FuzzDecodeInventoryRecord equal
// to seedCorpus (rewritten with -codecs.write-corpus), plus the seeds of its own rules.
func TestInventoryRecordSeedCorpus(t *testing.T) {
	fs := inventoryRecordType.fields
	seeds := seedCorpus(inventoryRecordType)
	seeds["units-negative"] = object(with(fs, "units", `-1`))
	seeds["units-max"] = object(with(fs, "units", `9223372036854775807`))
	seeds["price-number"] = object(with(fs, "price", `4.95`))
	seeds["price-negative"] = object(with(fs, "price", `"-4.95"`))
	seeds["price-4-decimals"] = object(with(fs, "price", `"4.9501"`))
	seeds["no-money"] = object(without(without(fs, "price"), "cost"))
	checkCorpus(t, "FuzzDecodeInventoryRecord", seeds)
}

// checkCorpus compares (or with -codecs.write-corpus writes) seed-<name> files of a fuzz target.
func checkCorpus(t *testing.T, target string, seeds map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	for name, data := range seeds {
		path := filepath.Join(dir, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		if *writeCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s: missing or stale (rewrite with go test ./codecs -run SeedCorpus -codecs.write-corpus): %v", path, err)
		}
	}
}
