package transactions

import (
	"reflect"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
)

// TestDedupeByLineID: the first accepted record claims its line id; later valid records with that id
// are duplicates and emit nothing; rejected records claim nothing, so a valid record after a
// rejected one with the same id is accepted.
func TestDedupeByLineID(t *testing.T) {
	h := newHarness(t)
	bad := goodLine()
	bad.UserID = ""
	retry := goodLine()
	retry.Quantity = 3 // a different body under a claimed id is still a duplicate: first claim wins
	other := goodLine()
	other.LineID = "o000123-2"

	steps := []struct {
		key         string
		raw         []byte
		clean, dead int
	}{
		{"o000123-1", encode(t, bad), 0, 1},        // rejected: claims nothing
		{"o000123-1", encode(t, goodLine()), 1, 0}, // claims o000123-1 at offset 1
		{"o000123-1", encode(t, goodLine()), 0, 0}, // producer retry: duplicate
		{"o000123-2", encode(t, other), 1, 0},      // another line id
		{"o000123-1", encode(t, retry), 0, 0},      // duplicate
		{"o000123-1", encode(t, bad), 0, 1},        // invalid: rejected even though the id is claimed
		{"o000123-2", encode(t, other), 0, 0},      // duplicate
	}
	for i, s := range steps {
		h.consume(s.key, s.raw)
		clean, sales, dead := drain(t, h.clean), drain(t, h.sales), drain(t, h.dead)
		if len(clean) != s.clean || len(sales) != s.clean || len(dead) != s.dead {
			t.Errorf("step %d: %d clean, %d sales, %d dead; want %d, %d, %d", i, len(clean), len(sales), len(dead), s.clean, s.clean, s.dead)
		}
	}
	for key, off := range map[string]int64{"o000123-1": 1, "o000123-2": 3} {
		if got := h.tt.TableValue(h.table, key); !reflect.DeepEqual(got, &Claim{Offset: off}) {
			t.Errorf("claim of %s: %+v, want offset %d", key, got, off)
		}
	}
	checkCounts(t, h.counts, map[outcome.Outcome]int64{
		outcome.Accepted: 2, outcome.Duplicate: 3, outcome.Rejected(event.ReasonMissingUser): 2,
	})
}

// TestRedeliveryReemitsIdentically simulates a crash after the claim was stored but before the
// input offset was committed: a fresh run whose table already holds the claim reads the same record
// at the same offset again. It must emit exactly what the first run emitted (same keys, bytes and
// origin), so downstream fences can drop the copies; a record at another offset stays a duplicate.
func TestRedeliveryReemitsIdentically(t *testing.T) {
	raw := encode(t, goodLine())

	first := newHarness(t)
	o := first.consume("o000123-1", raw)
	clean1, sales1 := drain(t, first.clean), drain(t, first.sales)
	if len(clean1) != 1 || len(sales1) != 1 {
		t.Fatalf("first run: %d clean, %d sales; want 1, 1", len(clean1), len(sales1))
	}

	again := newHarness(t)
	again.tt.SetTableValue(again.table, "o000123-1", &Claim{Offset: o.Offset})
	if o2 := again.consume("o000123-1", raw); o2 != o {
		t.Fatalf("redelivered at %v, want %v", o2, o)
	}
	clean2, sales2 := drain(t, again.clean), drain(t, again.sales)
	if !reflect.DeepEqual(clean2, clean1) || !reflect.DeepEqual(sales2, sales1) {
		t.Errorf("redelivery emitted\n%+v %+v\nfirst run emitted\n%+v %+v", clean2, sales2, clean1, sales1)
	}
	again.consume("o000123-1", raw) // offset 1: a duplicate, not a redelivery
	if n, m := len(drain(t, again.clean)), len(drain(t, again.sales)); n != 0 || m != 0 {
		t.Errorf("duplicate after redelivery emitted %d clean, %d sales", n, m)
	}
	if got := again.tt.TableValue(again.table, "o000123-1"); !reflect.DeepEqual(got, &Claim{Offset: o.Offset}) {
		t.Errorf("claim %+v, want offset %d", got, o.Offset)
	}
	checkCounts(t, again.counts, map[outcome.Outcome]int64{outcome.Accepted: 1, outcome.Duplicate: 1})
}

func TestClaimCodec(t *testing.T) {
	for _, c := range []Claim{{0}, {1}, {1<<62 + 3}} {
		b, err := ClaimCodec{}.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != claimSize || b[0] != claimVersion {
			t.Errorf("encoded %+v as %x", c, b)
		}
		v, err := ClaimCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if *v.(*Claim) != c {
			t.Errorf("round trip %+v → %+v", c, *v.(*Claim))
		}
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, {2, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, err := (ClaimCodec{}).Decode(b); err == nil {
			t.Errorf("decode %x: want error", b)
		}
	}
	if _, err := (ClaimCodec{}).Encode("x"); err == nil {
		t.Error("encode string: want error")
	}
}

// TestOriginHeaderOnRawInputIgnored: a raw record arrives from outside the pipeline, so an origin
// header on it is not trusted; outputs carry the record's own topic/partition/offset.
func TestOriginHeaderOnRawInputIgnored(t *testing.T) {
	h := newHarness(t)
	o := fence.Origin{Topic: h.in, Partition: 0, Offset: h.inQ.Hwm()}
	h.tt.Consume(h.in, "o000123-1", encode(t, goodLine()),
		tester.WithHeaders(goka.Headers{fence.Header: []byte("elsewhere/7/123456")}))
	clean, sales := drain(t, h.clean), drain(t, h.sales)
	if len(clean) != 1 || len(sales) != 1 || clean[0].origin != o.String() || sales[0].origin != o.String() {
		t.Errorf("outputs %+v %+v, want one each with origin %s", clean, sales, o)
	}
}
