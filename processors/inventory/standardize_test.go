package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

func TestStandardSKU(t *testing.T) {
	for in, want := range map[string]string{
		"P0007": "P0007", "p0007": "P0007", " P0007 ": "P0007", " p0007 ": "P0007", "p0007  ": "P0007",
		"\tp-12a\n": "P-12A", "   ": "", "": "", "sku 7": "SKU 7",
	} {
		if got := StandardSKU(in); got != want {
			t.Errorf("StandardSKU(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStandardType(t *testing.T) {
	for in, want := range map[string]event.InventoryType{
		"stock_report": event.StockReport, "Stock Report": event.StockReport, " STOCK-REPORT ": event.StockReport,
		"restock": event.Restock, "Restock": event.Restock, "product_info": event.ProductInfo, "Product Info": event.ProductInfo,
		"stocktake": "stocktake", "": "",
	} {
		if got := StandardType(in); got != want {
			t.Errorf("StandardType(%q) = %q, want %q", in, got, want)
		}
	}
}

// canonicalCategories are the generator's category names, written out here rather than imported:
// the rule must reach them on its own.
var canonicalCategories = []string{"Home & Kitchen", "Toys & Games", "Sports & Outdoors", "Electronics", "Books",
	"Clothing", "Beauty & Personal Care", "Garden", "Office Supplies"}

func TestStandardCategory(t *testing.T) {
	// Every variant form the generator writes (generate/inventory.go messyCategory), for every name.
	variants := []func(string) string{
		func(c string) string { return c },
		strings.ToLower,
		func(c string) string { return strings.ToUpper(strings.ReplaceAll(c, " & ", "&")) },
		func(c string) string { return strings.ToLower(strings.ReplaceAll(c, "&", "and")) },
		func(c string) string { return strings.ReplaceAll(c, "&", "and") },
		func(c string) string { return "  " + strings.ReplaceAll(c, " ", "  ") + " " },
	}
	for _, c := range canonicalCategories {
		for i, v := range variants {
			if got := StandardCategory(v(c)); got != c {
				t.Errorf("variant %d %q → %q, want %q", i, v(c), got, c)
			}
		}
	}
	for in, want := range map[string]string{
		"HOME&KITCHEN": "Home & Kitchen", "home and kitchen": "Home & Kitchen", "  Home &  Kitchen ": "Home & Kitchen",
		"Sandals AND Boots": "Sandals & Boots", "candles": "Candles", "": "", " & ": "&", "électronique": "Électronique",
	} {
		if got := StandardCategory(in); got != want {
			t.Errorf("StandardCategory(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStandardMoney(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" = error
	}{
		{"4.95", "4.95"}, {"$4.95", "4.95"}, {"$1,299.00", "1299.00"}, {"1,299.00", "1299.00"}, {" $ 12 ", "12.00"},
		{"£0.665", "0.665"}, {"€1,000,000", "1000000.00"}, {"-$5.00", "-5.00"}, {"0", "0.00"},
		{"$", ""}, {"", ""}, {"4.9501", ""}, {"4.95 USD", ""}, {"abc", ""}, {"1e3", ""}, {"$4.95$x", ""},
	}
	for _, c := range cases {
		got, err := StandardMoney(c.in)
		if c.want == "" {
			if err == nil || !errors.Is(err, ErrPrice) {
				t.Errorf("StandardMoney(%q) = %s, %v; want ErrPrice", c.in, got, err)
			}
			continue
		}
		if err != nil || got != event.MustMoney(c.want) {
			t.Errorf("StandardMoney(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestStandardUnits(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12", 12, true}, {"12 pcs", 12, true}, {"12pcs", 12, true}, {"12 units", 12, true}, {" 7 PCS. ", 7, true},
		{"1,200 units", 1200, true}, {"0", 0, true}, {"-3", -3, true}, {"-3 pcs", -3, true}, {"+4", 4, true},
		{"", 0, false}, {"pcs", 0, false}, {"12.5", 0, false}, {"twelve", 0, false}, {"1 2", 0, false},
		{"12 pcs 3", 0, false}, {"-", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, c := range cases {
		got, err := StandardUnits(c.in)
		if c.ok != (err == nil) || got != c.want || (err != nil && !errors.Is(err, ErrQuantity)) {
			t.Errorf("StandardUnits(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestStandardName(t *testing.T) {
	if got := StandardName("  Mug,   blue\t"); got != "Mug, blue" {
		t.Errorf("StandardName = %q", got)
	}
}

// BenchmarkClean is the gateway's work per raw record: strict decode, standardize, encode.
func BenchmarkClean(b *testing.B) {
	raw := []byte(`{"event_id":"i20240301-000001","type":"product_info","sku":" p0007 ","name":"Mug, blue",` +
		`"category":"HOME&KITCHEN","price":"$1,299.00","cost":"2.10","quantity":"12 pcs","time":"2024-03-01T00:00:00Z"}`)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		u, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		r, reason, _ := Standardize(u)
		if reason != "" {
			b.Fatal(reason)
		}
		buf, _ = codecs.AppendInventoryRecord(buf[:0], r)
	}
}
