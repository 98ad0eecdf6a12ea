package transactions

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/pseudonym"
)

// TestEveryRuleAndReason feeds one record per case through the production graph and checks the
// exact outputs: for accepted lines the clean and sales records (keys, every field, the pseudonym,
// the origin), for rejected ones the dead letter (reason, detail, source, processor, key, original).
func TestEveryRuleAndReason(t *testing.T) {
	mut := func(f func(l *event.TransactionLine)) []byte {
		l := goodLine()
		f(&l)
		return encode(t, l)
	}
	at := func(s string) func(l *event.TransactionLine) {
		return func(l *event.TransactionLine) { l.Time = mustTime(s) }
	}
	cases := []struct {
		name   string
		raw    []byte
		reason event.Reason // empty: accepted
		detail string
	}{
		{"purchase", encode(t, goodLine()), "", ""},
		{"refund", mut(func(l *event.TransactionLine) { l.Type = event.Refund }), "", ""},
		{"return", mut(func(l *event.TransactionLine) { l.Type = event.Return }), "", ""},
		{"first instant allowed", mut(at("2000-01-01T00:00:00Z")), "", ""},
		{"last instant allowed", mut(at("2099-12-31T23:59:59.999999999Z")), "", ""},
		{"3-decimal price", mut(func(l *event.TransactionLine) { l.UnitPrice = event.MustMoney("0.001") }), "", ""},

		{"missing order", mut(func(l *event.TransactionLine) { l.OrderID = "" }),
			event.ReasonMissingOrder, "order_id is empty"},
		{"missing user", mut(func(l *event.TransactionLine) { l.UserID = "" }),
			event.ReasonMissingUser, "user_id is empty"},
		{"user field absent", []byte(strings.Replace(string(encode(t, goodLine())), `"user_id":"u00042",`, "", 1)),
			event.ReasonMissingUser, "user_id is empty"},
		{"missing product", mut(func(l *event.TransactionLine) { l.ProductID = "" }),
			event.ReasonMissingProduct, "product_id is empty"},
		{"unknown type", withType(t, goodLine(), "exchange"),
			event.ReasonBadType, "type is not purchase, refund or return"},
		{"misspelt type", withType(t, goodLine(), "purchse"),
			event.ReasonBadType, "type is not purchase, refund or return"},
		{"empty type", withType(t, goodLine(), ""),
			event.ReasonBadType, "type is not purchase, refund or return"},
		{"escaped unknown type", withType(t, goodLine(), `ex\"change`),
			event.ReasonBadType, "type is not purchase, refund or return"},
		{"before 2000", mut(at("1999-12-31T23:59:59Z")),
			event.ReasonBadTime, "time 1999-12-31T23:59:59Z outside [2000-01-01, 2100-01-01) UTC"},
		{"from 2100", mut(at("2100-01-01T00:00:00Z")),
			event.ReasonBadTime, "time 2100-01-01T00:00:00Z outside [2000-01-01, 2100-01-01) UTC"},
		{"zero quantity", mut(func(l *event.TransactionLine) { l.Quantity = 0 }),
			event.ReasonBadQuantity, "quantity 0 ≤ 0"},
		{"negative quantity", mut(func(l *event.TransactionLine) { l.Quantity = -6 }),
			event.ReasonBadQuantity, "quantity -6 ≤ 0"},
		{"amount overflows", mut(func(l *event.TransactionLine) { l.Quantity = math.MaxInt64 / 1000 }),
			event.ReasonBadQuantity, "quantity 9223372036854775 × unit_price 4.95 overflows"},
		{"zero price", mut(func(l *event.TransactionLine) { l.UnitPrice = 0 }),
			event.ReasonBadPrice, "unit_price 0.00 ≤ 0"},
		{"negative price", mut(func(l *event.TransactionLine) { l.UnitPrice = event.MustMoney("-11062.06") }),
			event.ReasonBadPrice, "unit_price -11062.06 ≤ 0"},

		// The first failing rule decides.
		{"order before user", mut(func(l *event.TransactionLine) { l.OrderID, l.UserID = "", "" }),
			event.ReasonMissingOrder, "order_id is empty"},
		{"user before product", mut(func(l *event.TransactionLine) { l.UserID, l.ProductID = "", "" }),
			event.ReasonMissingUser, "user_id is empty"},
		{"product before type", withType(t, func() event.TransactionLine { l := goodLine(); l.ProductID = ""; return l }(), "swap"),
			event.ReasonMissingProduct, "product_id is empty"},
		{"type before time", withType(t, func() event.TransactionLine { l := goodLine(); l.Time = mustTime("1970-01-01T00:00:00Z"); return l }(), "swap"),
			event.ReasonBadType, "type is not purchase, refund or return"},
		{"time before quantity", mut(func(l *event.TransactionLine) { l.Time, l.Quantity = mustTime("2200-01-01T00:00:00Z"), 0 }),
			event.ReasonBadTime, "time 2200-01-01T00:00:00Z outside [2000-01-01, 2100-01-01) UTC"},
		{"quantity before price", mut(func(l *event.TransactionLine) { l.Quantity, l.UnitPrice = 0, 0 }),
			event.ReasonBadQuantity, "quantity 0 ≤ 0"},

		{"not JSON", []byte("536365,85123A,WHITE HANGING HEART"),
			event.ReasonUndecodable, `codecs: decode TransactionLine at byte 0: syntax error: unexpected '5', want '{'`},
		{"empty value", nil,
			event.ReasonUndecodable, `codecs: decode TransactionLine at byte 0: syntax error: unexpected end of input, want '{'`},
		{"no time", []byte(`{"line_id":"o1-1","order_id":"o1","type":"purchase","user_id":"u1","product_id":"P1","quantity":1,"unit_price":"1.00"}`),
			event.ReasonUndecodable, `codecs: decode TransactionLine.time at byte 118: missing required field`},
		{"unknown type and a bad time", []byte(`{"line_id":"o1-1","order_id":"o1","type":"swap","user_id":"u1","product_id":"P1","quantity":1,"unit_price":"1.00","time":"yesterday"}`),
			event.ReasonUndecodable, `codecs: decode TransactionLine.type at byte 41: bad value: unknown type "swap"`},
	}
	demo := pseudonym.Demo()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			o := h.consume("o000123-1", c.raw)
			clean, sales, dead := drain(t, h.clean), drain(t, h.sales), drain(t, h.dead)
			if c.reason == "" {
				if len(dead) != 0 || len(clean) != 1 || len(sales) != 1 {
					t.Fatalf("got %d clean, %d sales, %d dead letters; want 1, 1, 0", len(clean), len(sales), len(dead))
				}
				want, err := codecs.DecodeTransactionLine(c.raw)
				if err != nil {
					t.Fatal(err)
				}
				want.UserID = demo.Of("u00042")
				checkLine(t, "clean", clean[0], want.UserID, o.String(), want)
				checkLine(t, "sales", sales[0], "P0007", o.String(), want)
				if got := h.tt.TableValue(h.table, "o000123-1"); !reflect.DeepEqual(got, &Claim{Offset: o.Offset}) {
					t.Errorf("claim %+v, want offset %d", got, o.Offset)
				}
				checkCounts(t, h.counts, map[outcome.Outcome]int64{outcome.Accepted: 1})
				return
			}
			if len(clean) != 0 || len(sales) != 0 || len(dead) != 1 {
				t.Fatalf("got %d clean, %d sales, %d dead letters; want 0, 0, 1", len(clean), len(sales), len(dead))
			}
			checkDeadLetter(t, dead[0], o.String(), c.reason, c.detail, "o000123-1", c.raw)
			if got := h.tt.TableValue(h.table, "o000123-1"); got != nil {
				t.Errorf("a rejected record claimed its line id: %+v", got)
			}
			checkCounts(t, h.counts, map[outcome.Outcome]int64{outcome.Rejected(c.reason): 1})
		})
	}
}

func checkLine(t *testing.T, topic string, e emitted, key, origin string, want *event.TransactionLine) {
	t.Helper()
	if e.key != key || e.origin != origin {
		t.Errorf("%s: key %q origin %q, want %q %q", topic, e.key, e.origin, key, origin)
	}
	got, err := codecs.DecodeTransactionLine(e.value)
	if err != nil {
		t.Fatalf("%s: %v", topic, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: line\n%+v\nwant\n%+v", topic, *got, *want)
	}
	if !strings.HasPrefix(got.UserID, "p0_") || len(got.UserID) != 35 {
		t.Errorf("%s: user id %q is not a demo-key pseudonym", topic, got.UserID)
	}
}

func checkDeadLetter(t *testing.T, e emitted, origin string, reason event.Reason, detail, key string, original []byte) {
	t.Helper()
	dl, err := codecs.DecodeDeadLetter(e.value)
	if err != nil {
		t.Fatal(err)
	}
	if e.key != origin || e.origin != origin {
		t.Errorf("dead letter key %q origin %q, want %q", e.key, e.origin, origin)
	}
	if dl.Reason != string(reason) || dl.Detail != detail || dl.Source != origin || dl.Processor != Processor ||
		string(dl.Key) != key || !bytes.Equal(dl.Original, original) {
		t.Errorf("dead letter %q %q %q %q key %q original %q\nwant       %q %q %q %q key %q original %q",
			dl.Reason, dl.Detail, dl.Source, dl.Processor, dl.Key, dl.Original,
			reason, detail, origin, Processor, key, original)
	}
	if time.Since(dl.Time) > time.Minute || dl.Time.Location() != time.UTC {
		t.Errorf("dead letter time %v: want now, UTC", dl.Time)
	}
	if strings.Contains(dl.Detail, "u00042") {
		t.Errorf("dead letter detail quotes the raw user id: %q", dl.Detail)
	}
}

func checkCounts(t *testing.T, c *outcome.Counts, want map[outcome.Outcome]int64) {
	t.Helper()
	if got := c.Of(Processor); !reflect.DeepEqual(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func mustTime(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm
}

func TestRefusesToStartWithoutKey(t *testing.T) {
	_, err := New(cluster.Config{Brokers: []string{"tester"}})
	if !errors.Is(err, cluster.ErrNoPseudonyms) {
		t.Fatalf("New without a key: %v, want %v", err, cluster.ErrNoPseudonyms)
	}
}
