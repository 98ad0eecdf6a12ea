package codecs_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/inventory/product"
)

// richProduct is a product with every field set: folded months, an open window, a fence.
func richProduct() *product.Product {
	p := product.New("P0007")
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Apply(&event.InventoryRecord{EventID: "i0", Type: event.ProductInfo, SKU: "P0007", Name: "Mug, blue",
		Category: "Home & Kitchen", Price: moneyPtr("4.95"), Cost: moneyPtr("2.10"), Time: day})
	for d := 0; d < 50; d++ {
		at := day.AddDate(0, 0, d)
		p.Apply(&event.InventoryRecord{EventID: "r" + at.Format("0102"), Type: event.StockReport, SKU: "P0007",
			Units: int64(100 - d), Time: at.Add(23*time.Hour + 59*time.Minute)})
		if d%7 == 0 {
			p.Apply(&event.InventoryRecord{EventID: "s" + at.Format("0102"), Type: event.Restock, SKU: "P0007",
				Units: 30, Time: at.Add(6*time.Hour + 123)})
		}
	}
	p.Apply(&event.InventoryRecord{EventID: "r0101", Type: event.StockReport, SKU: "P0007", Units: 1, Time: day})
	p.Fence = fence.Vector{{Source: "shopease.inventory/0", Offset: 17}, {Source: "shopease.inventory/3", Offset: 1 << 40}}
	return p
}

func TestProductRoundTrip(t *testing.T) {
	rich := richProduct()
	if len(rich.Closed) == 0 || len(rich.Window) == 0 || rich.Late != 1 || rich.Base.Cost == nil {
		t.Fatalf("fixture lacks a part: %d closed, %d window, %d late", len(rich.Closed), len(rich.Window), rich.Late)
	}
	for _, p := range []*product.Product{product.New(""), product.New("P1"), rich} {
		b, err := codecs.Product{}.Encode(p)
		if err != nil {
			t.Fatalf("encode %s: %v", p.SKU, err)
		}
		v, err := codecs.Product{}.Decode(b)
		if err != nil {
			t.Fatalf("decode %s: %v", p.SKU, err)
		}
		if !reflect.DeepEqual(v, p) {
			t.Errorf("round trip of %s\n got %+v\nwant %+v", p.SKU, v, p)
		}
		b2, _ := codecs.Product{}.Encode(*v.(*product.Product))
		if !bytes.Equal(b, b2) {
			t.Errorf("%s: re-encoding differs", p.SKU)
		}
	}
	if b, _ := (codecs.Product{}).Encode(product.New("P1")); !bytes.Equal(b, []byte("\x01\x02P1\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00")) {
		t.Errorf("empty product encodes as %q", b)
	}
}

func TestProductStrict(t *testing.T) {
	good, err := codecs.AppendProduct(nil, richProduct())
	if err != nil {
		t.Fatal(err)
	}
	// Every cut of a valid value is refused as a syntax error, never read as a shorter value.
	for n := 0; n < len(good); n++ {
		if v, err := codecs.DecodeProduct(good[:n]); v != nil || (!errors.Is(err, codecs.ErrSyntax) && !errors.Is(err, codecs.ErrBadValue)) {
			t.Fatalf("cut at %d of %d: %v, %v", n, len(good), v, err)
		}
	}
	empty, _ := codecs.AppendProduct(nil, product.New("P1"))
	cases := []struct {
		name  string
		data  []byte
		err   error
		field string
	}{
		{"trailing byte", append(append([]byte{}, good...), 0), codecs.ErrSyntax, ""},
		{"version 2", append([]byte{2}, good[1:]...), codecs.ErrBadValue, "version"},
		{"empty input", nil, codecs.ErrBadValue, "version"},
		{"invalid UTF-8 sku", []byte("\x01\x02\xff\xfe"), codecs.ErrBadValue, "sku"},
		{"sku longer than input", []byte("\x01\x09P1"), codecs.ErrSyntax, "sku"},
		{"presence flag 2", bytes.Replace(empty, []byte("P1\x00\x00"), []byte("P1\x00\x00\x02"), 1)[:len(empty)], codecs.ErrBadValue, "price"},
		{"huge fence count", append(append([]byte{}, empty[:16]...), 0xff, 0xff, 0xff, 0xff, 0x0f), codecs.ErrSyntax, "fence"},
	}
	for _, c := range cases {
		v, err := codecs.DecodeProduct(c.data)
		var fe *codecs.FieldError
		if v != nil || !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field || fe.Type != "Product" {
			t.Errorf("%s: %v, %v; want %v on %q", c.name, v, err, c.err, c.field)
		}
	}
	bad := []struct {
		name  string
		p     *product.Product
		field string
	}{
		{"invalid UTF-8", &product.Product{Name: "\xff"}, "name"},
		{"zoned time", &product.Product{Updated: time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))}, "updated"},
		{"unknown entry type", &product.Product{Window: []product.Entry{{Type: "hover"}}}, "window.type"},
	}
	for _, c := range bad {
		b, err := codecs.AppendProduct([]byte("x"), c.p)
		var fe *codecs.FieldError
		if string(b) != "x" || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("encode %s: %q, %v; want dst unchanged and an error on %q", c.name, b, err, c.field)
		}
	}
}

// FuzzDecodeProduct: no input panics; an accepted one re-encodes to the same bytes.
func FuzzDecodeProduct(f *testing.F) {
	good, _ := codecs.AppendProduct(nil, richProduct())
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := codecs.DecodeProduct(data)
		if err != nil {
			var fe *codecs.FieldError
			if !errors.As(err, &fe) || fe.Type != "Product" || fe.Offset < 0 || fe.Offset > len(data) || v != nil {
				t.Fatalf("DecodeProduct(%q) = %v, %v", data, v, err)
			}
			return
		}
		b, err := codecs.AppendProduct(nil, v)
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("DecodeProduct(%q) re-encodes to %q, %v", data, b, err)
		}
	})
}

func TestProductSeedCorpus(t *testing.T) {
	good, _ := codecs.AppendProduct(nil, richProduct())
	empty, _ := codecs.AppendProduct(nil, product.New("P1"))
	checkCorpus(t, "FuzzDecodeProduct", map[string][]byte{
		"rich":      good,
		"empty":     empty,
		"cut":       good[:len(good)/2],
		"trailing":  append(append([]byte{}, empty...), 7),
		"version-0": append([]byte{0}, empty[1:]...),
	})
}

func BenchmarkProduct(b *testing.B) {
	p := richProduct()
	data, err := codecs.AppendProduct(nil, p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		buf := make([]byte, 0, len(data))
		for i := 0; i < b.N; i++ {
			buf, _ = codecs.AppendProduct(buf[:0], p)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := codecs.DecodeProduct(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
