package replay

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// mapFile reads a file through the resolver of cfg and returns its records and rejections by line.
func mapFile(t *testing.T, cfg Config, path string) (map[int64]record, map[int64]rejection) {
	t.Helper()
	recs, rejs := map[int64]record{}, map[int64]rejection{}
	eachRow(t, cfg, path, func(r *row, rec record, rej *rejection) {
		if rej != nil {
			rejs[r.line] = *rej
			return
		}
		rec.value = append([]byte(nil), rec.value...)
		recs[r.line] = rec
	})
	return recs, rejs
}

// eachRow reads a file through the resolver of cfg and calls fn with each row and its record or
// rejection.
func eachRow(t *testing.T, cfg Config, path string, fn func(r *row, rec record, rej *rejection)) {
	t.Helper()
	res, err := newResolver(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planFile(path, res, DefaultMaxRowBytes)
	if err != nil {
		t.Fatal(err)
	}
	src, err := openSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var rows rowReader
	var header []string
	switch src.format {
	case formatCSV:
		c, err := newCSVRows(src.r, DefaultMaxRowBytes)
		if err != nil {
			t.Fatal(err)
		}
		rows, header = c, c.header
	case formatJSONArray:
		rows = newJSONArrayRows(src.r, DefaultMaxRowBytes)
	default:
		rows = newNDJSONRows(src.r, DefaultMaxRowBytes)
	}
	fm, err := newFileMapper(p.mapping, p.ds, filepath.Base(path), header)
	if err != nil {
		t.Fatal(err)
	}
	for {
		r, err := rows.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.reason != "" {
			fn(r, record{}, &rejection{r.reason, r.detail})
			continue
		}
		rec, rej := fm.mapRow(r)
		fn(r, rec, rej)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestOnlineRetailMapping(t *testing.T) {
	dir := filepath.Join("testdata", "online-retail")
	tests := []struct {
		name string
		file string
		line int64
		want event.TransactionLine
	}{
		{"first line: float user id, UTC time", "2010-12-01.csv.gz", 2, event.TransactionLine{
			LineID: "536365-1", OrderID: "536365", Type: event.Purchase, UserID: "17850", ProductID: "85123A",
			Description: "WHITE HANGING HEART T-LIGHT HOLDER", Quantity: 6, UnitPrice: event.MustMoney("2.55"),
			Currency: "GBP", Country: "United Kingdom", Time: utc("2010-12-01T08:26:00Z"), Source: "2010-12-01.csv.gz:2"}},
		{"C invoice: a return, units positive", "2010-12-01.csv.gz", 143, event.TransactionLine{
			LineID: "C536379-1", OrderID: "C536379", Type: event.Return, UserID: "14527", ProductID: "D",
			Description: "Discount", Quantity: 1, UnitPrice: event.MustMoney("27.5"),
			Currency: "GBP", Country: "United Kingdom", Time: utc("2010-12-01T09:41:00Z"), Source: "2010-12-01.csv.gz:143"}},
		{"empty user stays empty, price 0 kept", "2010-12-01.csv.gz", 624, event.TransactionLine{
			LineID: "536414-1", OrderID: "536414", Type: event.Purchase, UserID: "", ProductID: "22139",
			Quantity: 56, UnitPrice: 0, Currency: "GBP", Country: "United Kingdom",
			Time: utc("2010-12-01T11:52:00Z"), Source: "2010-12-01.csv.gz:624"}},
		{"negative quantity on a purchase kept for the gateway", "2010-12-01.csv.gz", 2408, event.TransactionLine{
			LineID: "536589-1", OrderID: "536589", Type: event.Purchase, ProductID: "21777",
			Quantity: -10, UnitPrice: 0, Currency: "GBP", Country: "United Kingdom",
			Time: utc("2010-12-01T16:50:00Z"), Source: "2010-12-01.csv.gz:2408"}},
		{"identical line, first copy", "2010-12-01.csv.gz", 496, event.TransactionLine{
			LineID: "536409-12", OrderID: "536409", Type: event.Purchase, UserID: "17908", ProductID: "21866",
			Description: "UNION JACK FLAG LUGGAGE TAG", Quantity: 1, UnitPrice: event.MustMoney("1.25"),
			Currency: "GBP", Country: "United Kingdom", Time: utc("2010-12-01T11:45:00Z"), Source: "2010-12-01.csv.gz:496"}},
		{"identical line, second copy: its own id", "2010-12-01.csv.gz", 519, event.TransactionLine{
			LineID: "536409-35", OrderID: "536409", Type: event.Purchase, UserID: "17908", ProductID: "21866",
			Description: "UNION JACK FLAG LUGGAGE TAG", Quantity: 1, UnitPrice: event.MustMoney("1.25"),
			Currency: "GBP", Country: "United Kingdom", Time: utc("2010-12-01T11:45:00Z"), Source: "2010-12-01.csv.gz:519"}},
		{"price with 3 decimals", "2011-07-26.csv.gz", 131, event.TransactionLine{
			LineID: "561226-12", OrderID: "561226", Type: event.Purchase, UserID: "15618", ProductID: "PADS",
			Description: "PADS TO MATCH ALL CUSHIONS", Quantity: 1, UnitPrice: event.Money(1),
			Currency: "GBP", Country: "United Kingdom", Time: utc("2011-07-26T10:13:00Z"), Source: "2011-07-26.csv.gz:131"}},
	}
	cache := map[string]map[int64]record{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := cache[tt.file]
			if recs == nil {
				var rejs map[int64]rejection
				// No profile given: the header picks online-retail.
				recs, rejs = mapFile(t, Config{}, filepath.Join(dir, tt.file))
				if len(rejs) != 0 {
					t.Fatalf("rejections in %s: %v", tt.file, rejs)
				}
				cache[tt.file] = recs
			}
			rec, ok := recs[tt.line]
			if !ok {
				t.Fatalf("no record at line %d", tt.line)
			}
			got, err := codecs.DecodeTransactionLine(rec.value)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("line %d:\n got %+v\nwant %+v", tt.line, *got, tt.want)
			}
			if string(rec.key) != tt.want.LineID || !rec.time.Equal(tt.want.Time) {
				t.Errorf("key %q time %v, want %q %v", rec.key, rec.time, tt.want.LineID, tt.want.Time)
			}
		})
	}
	t.Run("return amount is negative", func(t *testing.T) {
		l := tests[1].want
		if a, _ := l.Amount(); a != event.MustMoney("-27.5") {
			t.Errorf("amount %s, want -27.50", a)
		}
	})
}

func TestShopEaseMapping(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"transactions/2024-03-01.csv": "line_id,order_id,type,user_id,product_id,description,quantity,unit_price,currency,country,time\n" +
			"o1-1,o1,purchase,u42,P7,\"Mug, blue\",2,4.95,GBP,United Kingdom,2024-03-01T10:15:00Z\n" +
			"o1-2,o1,purchase,u42,P8,Cup,two,4.95,GBP,United Kingdom,2024-03-01T10:15:00Z\n" +
			"o1-3,o1,purchase,u42,P8,Cup,1,4.9512,GBP,United Kingdom,2024-03-01T10:15:00Z\n" +
			"o1-4,o1,purchase,u42,P8,Cup,1,4.95,GBP,United Kingdom,yesterday\n" +
			"o1-5,o1,bogus,,P8,Cup,1,4.95,GBP,United Kingdom,2024-03-01T11:15:00+01:00\n",
		"inventory/2024-03-01.csv": "event_id,type,sku,name,category,price,cost,quantity,time\n" +
			"i1,stock_report, p0007 ,Mug,Kitchen & Dining,\"$4.95\",2.10,12 pcs,2024-03-01T00:00:00Z\n",
		"activity/2024-03-01.json": "[\n" +
			`{"event_id":"a1","user_id":"u42","session_id":"s1","type":"product_view","product_id":"P7","page":"/p/P7","referrer":"search","time":"2024-03-01T10:14:02Z"},` + "\n" +
			`{"event_id":"a2","user_id":"u42","type":"page_view","time":"2024-03-01T11:14:02+01:00"},` + "\n" +
			`{"event_id":"a3","user_id":"u42","type":"page_view"},` + "\n" +
			`{"event_id":"a5","user_id":"u42","type":"clikc","time":"2024-03-01T10:14:02Z"},` + "\n" +
			`{"event_id":"a4","user_id":"u42","type":"page_view","time":"2024-03-01T10:14:02Z"` + "\n]\n",
		"feedback/2024-03-02.ndjson": `{"review_id":"r1","user_id":"u42","product_id":"P7","rating":5,"title":"Great","text":"ok","time":"2024-03-02T08:00:00Z"}` + "\n" +
			`{"review_id":"r2","user_id":"u42","product_id":"P7","rating":"five","time":"2024-03-02T08:00:00Z"}` + "\n" +
			`{"review_id":"r3","user_id":"u42","product_id":"P7","rating":9,"time":"2024-03-02T08:00:00Z"} trailing` + "\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	type want struct {
		line   int64
		key    string
		time   string
		reason event.Reason
	}
	tests := []struct {
		file string
		want []want
	}{
		{"transactions/2024-03-01.csv", []want{
			{2, "o1-1", "2024-03-01T10:15:00Z", ""},
			{3, "", "", event.ReasonBadField},
			{4, "", "", event.ReasonBadField},
			{5, "", "", event.ReasonBadField},
			{6, "", "", event.ReasonBadType}, // type "bogus": the codec cannot carry it
		}},
		{"inventory/2024-03-01.csv", []want{{2, " p0007 ", "2024-03-01T00:00:00Z", ""}}},
		{"activity/2024-03-01.json", []want{
			{2, "u42", "2024-03-01T10:14:02Z", ""},
			{3, "u42", "2024-03-01T10:14:02Z", ""},
			{4, "", "", event.ReasonBadField},  // no time
			{5, "", "", event.ReasonBadType},   // unknown type
			{6, "", "", event.ReasonMalformed}, // truncated
		}},
		{"feedback/2024-03-02.ndjson", []want{
			{1, "r1", "2024-03-02T08:00:00Z", ""},
			{2, "", "", event.ReasonBadField},
			{3, "", "", event.ReasonMalformed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, rejs := mapFile(t, Config{}, filepath.Join(dir, tt.file))
			if n := len(recs) + len(rejs); n != len(tt.want) {
				t.Fatalf("%d rows, want %d (records %v, rejections %v)", n, len(tt.want), recs, rejs)
			}
			for _, w := range tt.want {
				if w.reason != "" {
					if rejs[w.line].reason != w.reason {
						t.Errorf("line %d: rejection %+v, want %s", w.line, rejs[w.line], w.reason)
					}
					continue
				}
				rec, ok := recs[w.line]
				if !ok {
					t.Errorf("line %d: rejected %+v, want a record", w.line, rejs[w.line])
					continue
				}
				if string(rec.key) != w.key || !rec.time.Equal(utc(w.time)) || rec.time.Location() != time.UTC {
					t.Errorf("line %d: key %q time %v, want %q %s", w.line, rec.key, rec.time, w.key, w.time)
				}
			}
		})
	}
	t.Run("inventory keeps text as received", func(t *testing.T) {
		recs, _ := mapFile(t, Config{}, filepath.Join(dir, "inventory/2024-03-01.csv"))
		u, err := codecs.DecodeInventoryUpdate(recs[2].value)
		if err != nil {
			t.Fatal(err)
		}
		want := event.InventoryUpdate{EventID: "i1", Type: event.StockReport, SKU: " p0007 ", Name: "Mug",
			Category: "Kitchen & Dining", Price: "$4.95", Cost: "2.10", Quantity: "12 pcs",
			Time: utc("2024-03-01T00:00:00Z"), Source: "2024-03-01.csv:2"}
		if !reflect.DeepEqual(*u, want) {
			t.Errorf("got %+v\nwant %+v", *u, want)
		}
	})
}

func TestMappingFile(t *testing.T) {
	dir := t.TempDir()
	mapping := `{
  "name": "pos-export",
  "dataset": "transactions",
  "columns": {"Receipt": "order_id", "Item": "product_id", "Qty": "quantity", "Price": "unit_price",
              "When": "time", "Customer": "user_id", "Kind": "type"},
  "time_layout": "02/01/2006 15:04",
  "time_zone": "Europe/London",
  "constants": {"currency": "GBP"},
  "type": {"default": "purchase", "rules": [{"field": "type", "prefix": "RET", "type": "return", "negate_quantity": true}]},
  "line_id": {"ordinal_within": "order_id"}
}`
	writeFile(t, filepath.Join(dir, "pos.json"), mapping)
	writeFile(t, filepath.Join(dir, "export.csv"), "Receipt,Item,Qty,Price,When,Customer,Kind\n"+
		"R1,A,2,1.50,01/07/2024 10:00,c1,\n"+
		"R1,B,-1,3.00,01/07/2024 10:05,c1,RETURN\n")
	cfg := Config{MappingFile: filepath.Join(dir, "pos.json")}
	recs, rejs := mapFile(t, cfg, filepath.Join(dir, "export.csv"))
	if len(rejs) != 0 || len(recs) != 2 {
		t.Fatalf("records %d rejections %v", len(recs), rejs)
	}
	want := []event.TransactionLine{
		{LineID: "R1-1", OrderID: "R1", Type: event.Purchase, UserID: "c1", ProductID: "A", Quantity: 2,
			UnitPrice: event.MustMoney("1.50"), Currency: "GBP", Time: utc("2024-07-01T09:00:00Z"), Source: "export.csv:2"},
		{LineID: "R1-2", OrderID: "R1", Type: event.Return, UserID: "c1", ProductID: "B", Quantity: 1,
			UnitPrice: event.MustMoney("3.00"), Currency: "GBP", Time: utc("2024-07-01T09:05:00Z"), Source: "export.csv:3"},
	}
	for i, w := range want {
		got, err := codecs.DecodeTransactionLine(recs[int64(i+2)].value)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, w) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+2, *got, w)
		}
	}

	bad := []struct{ name, json, want string }{
		{"unknown key", `{"name":"x","dataset":"transactions","columns":{"a":"order_id"},"colums":{}}`, "unknown field"},
		{"unknown field", `{"name":"x","dataset":"transactions","columns":{"a":"order"}}`, `unknown transactions field "order"`},
		{"unknown dataset", `{"name":"x","dataset":"orders","columns":{"a":"order_id"}}`, `unknown dataset "orders"`},
		{"two columns one field", `{"name":"x","dataset":"feedback","columns":{"a":"rating","b":"rating"}}`, `both map to "rating"`},
		{"bad zone", `{"name":"x","dataset":"activity","columns":{"a":"time"},"time_zone":"Mars/Olympus"}`, "time zone"},
	}
	for _, b := range bad {
		_, err := ParseMapping([]byte(b.json))
		if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: err %v, want ErrMapping with %q", b.name, err, b.want)
		}
	}
}

// TestDocumentedMapping keeps the example in docs/replay.md a valid mapping file.
func TestDocumentedMapping(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "replay.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/replay.md has no json example")
	}
	m, err := ParseMapping([]byte(example))
	if err != nil {
		t.Fatalf("documented mapping: %v", err)
	}
	if m.Name != "pos-export" || m.Dataset != "transactions" || len(m.Columns) != 7 || m.LineID == nil || m.Key != "line_id" {
		t.Errorf("documented mapping parsed as %+v", m)
	}
}
