package feedback

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
)

func cleanReview(product string, rating int) []byte {
	return []byte(rawReview("r", "p0_00000000000000000000000000000000", product, rating, "", "", t0))
}

func from(partition int32, offset int64) tester.EmitOption {
	return tester.WithHeaders(fence.Headers(fence.Origin{Topic: "unit.shopease.feedback", Partition: partition, Offset: offset}))
}

// TestRatingsExactAndFenced: aggregates are exact, and a review whose origin was applied before
// (a re-emission after a gateway crash) is not counted again, per raw partition.
func TestRatingsExactAndFenced(t *testing.T) {
	h := newHarness(t)
	h.run(t, NewRatings)
	in := string(ns.Stream("shopease.clean.feedback"))
	steps := []struct {
		product string
		rating  int
		origin  tester.EmitOption
	}{
		{"P1", 5, from(0, 10)},
		{"P1", 4, from(0, 11)},
		{"P1", 4, from(0, 11)}, // re-emitted: same origin
		{"P1", 3, from(3, 2)},  // another raw partition has its own fence
		{"P1", 5, from(0, 9)},  // below the fence: applied before
		{"P2", 1, from(0, 11)}, // fences are per product: P2 never saw 0/11
		{"P2", 2, from(1, 0)},
		{"P2", 2, from(1, 0)},
	}
	for _, s := range steps {
		h.tt.Consume(in, s.product, cleanReview(s.product, s.rating), s.origin)
	}
	table := ns.Table(RatingsGroup)
	want := map[string]Rating{
		"P1": {Count: 3, Sum: 12, Dist: [5]int64{0, 0, 1, 1, 1},
			Fence: fence.Vector{{Source: "unit.shopease.feedback/0", Offset: 11}, {Source: "unit.shopease.feedback/3", Offset: 2}}},
		"P2": {Count: 2, Sum: 3, Dist: [5]int64{1, 1, 0, 0, 0},
			Fence: fence.Vector{{Source: "unit.shopease.feedback/0", Offset: 11}, {Source: "unit.shopease.feedback/1", Offset: 0}}},
	}
	for _, p := range []string{"P1", "P2"} {
		got, _ := h.tt.TableValue(table, p).(*Rating)
		if got == nil || fmt.Sprint(*got) != fmt.Sprint(want[p]) {
			t.Errorf("%s: rating %+v, want %+v", p, got, want[p])
		}
	}
	wantObs := map[outcome.Outcome]int64{outcome.Accepted: 5, outcome.Duplicate: 3}
	if got := h.obs.Of(RatingsProcessor); fmt.Sprint(got) != fmt.Sprint(wantObs) {
		t.Errorf("observer counts %v, want %v", got, wantObs)
	}
	if m := h.tt.TableValue(table, "P1").(*Rating).MeanString(2); m != "4.00" {
		t.Errorf("P1 mean %s, want 4.00", m)
	}
}

// TestRatingsRejectsWhatCannotBeCounted: a record that is not a review, has no valid origin or
// holds a rating outside 1..5 becomes a dead letter and changes no aggregate.
func TestRatingsRejectsWhatCannotBeCounted(t *testing.T) {
	h := newHarness(t)
	h.run(t, NewRatings)
	in := string(ns.Stream("shopease.clean.feedback"))
	h.tt.Consume(in, "P1", []byte("{"), from(0, 1))
	h.tt.Consume(in, "P1", cleanReview("P1", 7), from(0, 2))
	h.tt.Consume(in, "P1", cleanReview("P1", 4), tester.WithHeaders(goka.Headers{fence.Header: []byte("nonsense")}))
	h.tt.Consume(in, "P1", cleanReview("P1", 4)) // no header: its own position is the origin
	o := func(p int32, off int64) fence.Origin {
		return fence.Origin{Topic: "unit.shopease.feedback", Partition: p, Offset: off}
	}
	h.expectDeadLetter(t, "undecodable", event.ReasonUndecodable, "P1", []byte("{"), o(0, 1))
	h.expectDeadLetter(t, "bad rating", event.ReasonBadRating, "P1", cleanReview("P1", 7), o(0, 2))
	h.expectDeadLetter(t, "bad origin", event.ReasonUndecodable, "P1", cleanReview("P1", 4), fence.Origin{Topic: in, Offset: 2})
	if k, v, ok := h.dead.NextRaw(); ok {
		t.Errorf("unexpected dead letter %s=%s", k, v)
	}
	got := h.tt.TableValue(ns.Table(RatingsGroup), "P1").(*Rating)
	want := Rating{Count: 1, Sum: 4, Dist: [5]int64{0, 0, 0, 1, 0}, Fence: fence.Vector{{Source: in + "/0", Offset: 3}}}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("rating %+v, want %+v", *got, want)
	}
}

// TestGatewayThenRatings runs both processors on one tester: raw reviews, including a re-sent
// copy and rejects, end up as exact per-product aggregates.
func TestGatewayThenRatings(t *testing.T) {
	h := newHarness(t)
	h.run(t, NewGateway)
	h.run(t, NewRatings)
	in := []struct {
		id, user, product string
		rating            int
	}{
		{"r1", "u1", "P1", 5}, {"r2", "u2", "P1", 2}, {"r1", "u1", "P1", 5}, // r1 re-sent
		{"r3", "u3", "P2", 3}, {"r4", "", "P2", 5}, {"r5", "u4", "P2", 0}, // rejected twice
		{"r6", "u1", "P2", 4}, {"r7", "u2", "P1", 2},
	}
	for _, r := range in {
		h.tt.Consume(h.raw, r.id, []byte(rawReview(r.id, r.user, r.product, r.rating, "", "", t0)))
	}
	table := ns.Table(RatingsGroup)
	want := map[string]string{"P1": "3 9 [0 2 0 0 1] 3.00", "P2": "2 7 [0 0 1 1 0] 3.50"}
	for p, w := range want {
		r := h.tt.TableValue(table, p).(*Rating)
		if got := fmt.Sprintf("%d %d %v %s", r.Count, r.Sum, r.Dist, r.MeanString(2)); got != w {
			t.Errorf("%s: %s, want %s", p, got, w)
		}
	}
	gw := h.obs.Of(GatewayProcessor)
	if gw[outcome.Accepted] != 5 || gw[outcome.Duplicate] != 1 || gw[outcome.Rejected(event.ReasonMissingUser)] != 1 ||
		gw[outcome.Rejected(event.ReasonBadRating)] != 1 || len(gw) != 4 {
		t.Errorf("gateway counts %v", gw)
	}
}

func TestMeanIsExact(t *testing.T) {
	cases := []struct {
		r    Rating
		mean *big.Rat
		str  string
	}{
		{Rating{}, nil, ""},
		{Rating{Count: 3, Sum: 13, Dist: [5]int64{0, 0, 0, 2, 1}}, big.NewRat(13, 3), "4.33"},
		{Rating{Count: 8, Sum: 21, Dist: [5]int64{1, 2, 2, 2, 1}}, big.NewRat(21, 8), "2.63"}, // 2.625: half away from zero
	}
	for _, c := range cases {
		m := c.r.Mean()
		if (m == nil) != (c.mean == nil) || (m != nil && m.Cmp(c.mean) != 0) || c.r.MeanString(2) != c.str {
			t.Errorf("%+v: mean %v %q, want %v %q", c.r, m, c.r.MeanString(2), c.mean, c.str)
		}
	}
}

func TestValueCodecsRoundTrip(t *testing.T) {
	ratings := []Rating{
		{},
		{Count: 3, Sum: 12, Dist: [5]int64{0, 0, 1, 1, 1}, Fence: fence.Vector{{Source: "shopease.feedback/0", Offset: 11}}},
		{Count: 1 << 40, Sum: 5 << 40, Dist: [5]int64{0, 0, 0, 0, 1 << 40}},
	}
	for _, r := range ratings {
		b, err := RatingCodec{}.Encode(&r)
		if err != nil {
			t.Fatal(err)
		}
		v, err := RatingCodec{}.Decode(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if fmt.Sprint(*v.(*Rating)) != fmt.Sprint(r) {
			t.Errorf("round trip %+v → %+v", r, *v.(*Rating))
		}
	}
	for _, c := range []Claim{{0}, {1<<62 + 3}} {
		b, err := ClaimCodec{}.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ClaimCodec{}.Decode(b)
		if err != nil || *v.(*Claim) != c {
			t.Errorf("round trip %+v → %v, %v", c, v, err)
		}
	}
	bad := []struct {
		codec goka.Codec
		b     string
	}{
		{RatingCodec{}, `{"count":2,"sum":8,"dist":[0,0,0,1,1],"fence":null}`}, // sum disagrees
		{RatingCodec{}, `{"count":1,"sum":4,"dist":[0,0,0,1,0],"fence":null}` + " {}"},
		{RatingCodec{}, `{"count":1,"sum":4,"dist":[0,0,0,1,0],"mean":4}`},
		{RatingCodec{}, `{"count":-1,"sum":-1,"dist":[-1,0,0,0,0]}`},
		{RatingCodec{}, `{"count":1,"sum":4,"dist":[0,0,0,1,0,0]}`},
		{ClaimCodec{}, `{"offset":-1}`},
		{ClaimCodec{}, `[]`},
	}
	for _, c := range bad {
		if _, err := c.codec.Decode([]byte(c.b)); !errors.Is(err, ErrBadValue) {
			t.Errorf("Decode(%s): %v, want %v", c.b, err, ErrBadValue)
		}
	}
	if _, err := (RatingCodec{}).Encode(Claim{}); err == nil {
		t.Error("RatingCodec encoded a Claim")
	}
}
