package inventory

import (
	"reflect"
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// FuzzClean: for any bytes the gateway's path never panics, and an accepted record is canonical
// (standardizing its fields again changes nothing), within the limits, and survives the clean
// codec unchanged.
func FuzzClean(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"i1","type":"product_info","sku":" p0007 ","name":" Mug,  blue","category":"HOME&KITCHEN","price":"$1,299.00","cost":"£2.10","time":"2024-03-01T00:00:00Z"}`,
		`{"event_id":"i2","type":"Stock Report","sku":"P1","quantity":"1,200 units","time":"2024-03-01T23:59:00+01:00"}`,
		`{"event_id":"i3","type":"restock","sku":"p1","quantity":"-3 pcs","time":"2024-03-01T06:00:00Z"}`,
		`{"event_id":"i4","type":"stocktake","sku":"","time":"1970-01-01T00:00:00Z"}`,
		`{"event_id":"i5","type":"product_info","sku":"é","category":" and & AND ","price":" ","cost":"1e3","time":"2099-12-31T23:59:59Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := Decode(data)
		if err != nil {
			return
		}
		r, reason, _ := Standardize(u)
		if reason != "" {
			if r != nil {
				t.Fatalf("rejected as %s but returned a record", reason)
			}
			return
		}
		if r.SKU == "" || r.SKU != StandardSKU(r.SKU) || r.Category != StandardCategory(r.Category) ||
			r.Name != StandardName(r.Name) || !r.Type.Valid() {
			t.Fatalf("accepted %q as a record that is not canonical: %+v", data, r)
		}
		if r.Units < 0 || r.Units > MaxUnits || (r.Price != nil && *r.Price < 0) || (r.Cost != nil && *r.Cost < 0) ||
			r.Time.Before(MinTime) || !r.Time.Before(MaxTime) {
			t.Fatalf("accepted %q outside the limits: %+v", data, r)
		}
		if r.Type == event.ProductInfo && r.Units != 0 {
			t.Fatalf("product_info with units: %+v", r)
		}
		b, err := codecs.AppendInventoryRecord(nil, r)
		if err != nil {
			t.Fatalf("accepted record does not encode: %+v: %v", r, err)
		}
		back, err := codecs.DecodeInventoryRecord(b)
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("clean record %+v comes back as %+v, %v", r, back, err)
		}
	})
}
