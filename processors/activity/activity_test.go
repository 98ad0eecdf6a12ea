package activity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
)

const ns topology.Namespace = "unit."

// harness is the gateway running on goka's tester, with trackers on both outputs.
type harness struct {
	tt    *tester.Tester
	in    string
	clean *tester.QueueTracker
	dead  *tester.QueueTracker
	obs   *outcome.Counts
}

func start(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	obs := &outcome.Counts{}
	cfg := cluster.Config{Brokers: []string{"tester"}, Namespace: ns, Pseudonyms: pseudonym.Demo(), Observer: obs}
	p, err := New(cfg, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &harness{
		tt:    tt,
		in:    string(ns.Stream(topology.Activity)),
		clean: tt.NewQueueTracker(string(ns.Stream(topology.CleanActivity))),
		dead:  tt.NewQueueTracker(string(ns.Stream(topology.DeadLetter))),
		obs:   obs,
	}
}

func rawActivity(user, typ, product, tm string) string {
	s := `{"event_id":"a1","user_id":"` + user + `","session_id":"s1","type":"` + typ + `"`
	if product != "" {
		s += `,"product_id":"` + product + `"`
	}
	return s + `,"page":"/x","referrer":"search","time":"` + tm + `"}`
}

const t0 = "2024-03-01T10:14:02Z"

func TestRulesInOrder(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want event.Reason // "" = accepted
	}{
		{"page view", rawActivity("u1", "page_view", "", t0), ""},
		{"product view", rawActivity("u1", "product_view", "P7", t0), ""},
		{"search needs no product", rawActivity("u1", "search", "", t0), ""},
		{"checkout needs no product", rawActivity("u1", "checkout_start", "", t0), ""},
		{"first instant", rawActivity("u1", "page_view", "", "2000-01-01T00:00:00Z"), ""},
		{"last instant", rawActivity("u1", "page_view", "", "2099-12-31T23:59:59.999999999Z"), ""},
		{"offset time inside", rawActivity("u1", "page_view", "", "2000-01-01T01:00:00+01:00"), ""},
		{"empty user", rawActivity("", "page_view", "", t0), event.ReasonMissingUser},
		{"absent user", `{"event_id":"a1","type":"page_view","time":"` + t0 + `"}`, event.ReasonMissingUser},
		{"null user", `{"event_id":"a1","user_id":null,"type":"page_view","time":"` + t0 + `"}`, event.ReasonMissingUser},
		{"product view without product", rawActivity("u1", "product_view", "", t0), event.ReasonMissingProduct},
		{"add to cart without product", rawActivity("u1", "add_to_cart", "", t0), event.ReasonMissingProduct},
		{"remove from cart without product", rawActivity("u1", "remove_from_cart", "", t0), event.ReasonMissingProduct},
		{"unknown type", rawActivity("u1", "hover", "", t0), event.ReasonBadType},
		{"unknown type with product", rawActivity("u1", "wishlist_add", "P7", t0), event.ReasonBadType},
		{"unknown type, escaped", rawActivity("u1", `ho\"ver\u0041`, "", t0), event.ReasonBadType},
		{"unknown type, empty", rawActivity("u1", "", "", t0), event.ReasonBadType},
		{"before 2000", rawActivity("u1", "page_view", "", "1999-12-31T23:59:59Z"), event.ReasonBadTime},
		{"offset time before 2000", rawActivity("u1", "page_view", "", "2000-01-01T00:30:00+01:00"), event.ReasonBadTime},
		{"from 2100", rawActivity("u1", "page_view", "", "2100-01-01T00:00:00Z"), event.ReasonBadTime},
		{"epoch", rawActivity("u1", "page_view", "", "1970-01-01T00:00:00Z"), event.ReasonBadTime},
		// The first failing rule decides.
		{"missing user before unknown type", rawActivity("", "hover", "", t0), event.ReasonMissingUser},
		{"missing user before bad time", rawActivity("", "page_view", "", "1970-01-01T00:00:00Z"), event.ReasonMissingUser},
		{"missing product before bad time", rawActivity("u1", "add_to_cart", "", "1970-01-01T00:00:00Z"), event.ReasonMissingProduct},
		{"unknown type before bad time", rawActivity("u1", "hover", "", "1970-01-01T00:00:00Z"), event.ReasonBadType},
		// Bytes that are not an activity record.
		{"not json", `hello`, event.ReasonUndecodable},
		{"empty", ``, event.ReasonUndecodable},
		{"truncated", rawActivity("u1", "page_view", "", t0)[:40], event.ReasonUndecodable},
		{"unknown field", `{"event_id":"a1","user_id":"u1","type":"page_view","colour":"red","time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"type is a number", `{"event_id":"a1","user_id":"u1","type":7,"time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"type is null", `{"event_id":"a1","user_id":"u1","type":null,"time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"unknown type and unknown field", `{"event_id":"a1","user_id":"u1","type":"hover","colour":"red","time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"no time", `{"event_id":"a1","user_id":"u1","type":"page_view"}`, event.ReasonUndecodable},
		{"year 0", rawActivity("u1", "page_view", "", "0000-01-01T00:00:00Z"), event.ReasonUndecodable},
	}
	h := start(t)
	want := map[outcome.Outcome]int64{}
	for i, c := range cases {
		h.tt.Consume(h.in, "key-"+c.name, []byte(c.raw))
		origin := fence.Origin{Topic: h.in, Partition: 0, Offset: int64(i)}
		if c.want == "" {
			want[outcome.Accepted]++
			a, err := codecs.DecodeActivity([]byte(c.raw))
			if err != nil {
				t.Fatalf("%s: test input does not decode: %v", c.name, err)
			}
			a.UserID = pseudonym.Demo().Of(a.UserID)
			wantValue, err := codecs.Activity{}.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			h.expectClean(t, c.name, a.UserID, wantValue, origin)
			continue
		}
		want[outcome.Rejected(c.want)]++
		h.expectDeadLetter(t, c.name, c.want, "key-"+c.name, []byte(c.raw), origin)
	}
	h.expectNoMore(t)
	if got := h.obs.Of(Processor); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observer counts %v, want %v", got, want)
	}
}

func (h *harness) expectClean(t *testing.T, name, key string, value []byte, o fence.Origin) {
	t.Helper()
	hdr, k, v, ok := h.clean.NextRawWithHeaders()
	if !ok {
		t.Fatalf("%s: nothing on the clean topic", name)
	}
	if k != key || !bytes.Equal(v, value) {
		t.Errorf("%s: clean record %s=%s, want %s=%s", name, k, v, key, value)
	}
	if got := string(hdr[fence.Header]); got != o.String() {
		t.Errorf("%s: origin %q, want %q", name, got, o.String())
	}
}

func (h *harness) expectDeadLetter(t *testing.T, name string, reason event.Reason, key string, original []byte, o fence.Origin) {
	t.Helper()
	hdr, k, v, ok := h.dead.NextRawWithHeaders()
	if !ok {
		t.Fatalf("%s: nothing on the dead-letter topic", name)
	}
	dl, err := codecs.DecodeDeadLetter(v)
	if err != nil {
		t.Fatalf("%s: dead letter does not decode: %v", name, err)
	}
	if k != o.String() || event.Reason(dl.Reason) != reason || dl.Source != o.String() || dl.Processor != Processor ||
		string(dl.Key) != key || !bytes.Equal(dl.Original, original) || string(hdr[fence.Header]) != o.String() {
		t.Errorf("%s: dead letter key %q reason %q source %q processor %q key %q original %q, want %q %q %q %q %q %q",
			name, k, dl.Reason, dl.Source, dl.Processor, dl.Key, dl.Original, o, reason, o, Processor, key, original)
	}
}

func (h *harness) expectNoMore(t *testing.T) {
	t.Helper()
	if k, v, ok := h.clean.NextRaw(); ok {
		t.Errorf("unexpected clean record %s=%s", k, v)
	}
	if k, v, ok := h.dead.NextRaw(); ok {
		t.Errorf("unexpected dead letter %s=%s", k, v)
	}
}

// TestPseudonymization: the clean record carries the same pseudonym for the same raw id (keyed by
// it), different ones for different ids, and no byte sequence of the raw ids anywhere.
func TestPseudonymization(t *testing.T) {
	h := start(t)
	users := []string{"raw-user-4711", "raw-user-0815", "raw-user-4711"}
	for _, u := range users {
		h.tt.Consume(h.in, u, []byte(rawActivity(u, "product_view", "P1", t0)))
	}
	var keys []string
	for range users {
		hdr, k, v, ok := h.clean.NextRawWithHeaders()
		if !ok {
			t.Fatal("missing clean record")
		}
		a, err := codecs.DecodeActivity(v)
		if err != nil {
			t.Fatal(err)
		}
		if a.UserID != k {
			t.Errorf("key %q but user_id %q", k, a.UserID)
		}
		for _, raw := range users {
			if bytes.Contains(v, []byte(raw)) || bytes.Contains([]byte(k), []byte(raw)) || bytes.Contains(hdr[fence.Header], []byte(raw)) {
				t.Errorf("raw id %q in clean record %s=%s", raw, k, v)
			}
		}
		keys = append(keys, k)
	}
	want := []string{pseudonym.Demo().Of(users[0]), pseudonym.Demo().Of(users[1]), pseudonym.Demo().Of(users[0])}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("pseudonyms %v, want %v", keys, want)
	}
	if keys[0] == keys[1] || !pseudonym.Demo().Is(keys[0]) {
		t.Errorf("pseudonyms %q, %q: not distinct pseudonyms", keys[0], keys[1])
	}
}

// TestRedeliveryEmitsIdentically: a gateway that reads the same raw record at the same offset again
// (a restart before the commit) emits byte-identical output with the same origin, so downstream
// fences can drop the copy.
func TestRedeliveryEmitsIdentically(t *testing.T) {
	type out struct {
		key, origin string
		value       []byte
	}
	run := func() []out {
		h := start(t)
		h.tt.Consume(h.in, "u1", []byte(rawActivity("u1", "add_to_cart", "P3", t0)))
		h.tt.Consume(h.in, "u1", []byte(rawActivity("", "add_to_cart", "P3", t0)))
		var outs []out
		hdr, k, v, _ := h.clean.NextRawWithHeaders()
		outs = append(outs, out{k, string(hdr[fence.Header]), v})
		hdr, k, _, _ = h.dead.NextRawWithHeaders()
		outs = append(outs, out{k, string(hdr[fence.Header]), nil}) // the value holds the wall-clock reject time
		return outs
	}
	first, second := run(), run()
	if fmt.Sprintf("%q", first) != fmt.Sprintf("%q", second) {
		t.Errorf("redelivery emitted %q, first delivery %q", second, first)
	}
	if first[0].origin != "unit.shopease.activity/0/0" || first[1].origin != "unit.shopease.activity/0/1" {
		t.Errorf("origins %q, %q", first[0].origin, first[1].origin)
	}
}

// TestTombstoneIsUndecodable: a nil value is read, not skipped, so that accepted + rejected = read.
func TestTombstoneIsUndecodable(t *testing.T) {
	h := start(t)
	h.tt.Consume(h.in, "u1", nil)
	h.expectDeadLetter(t, "tombstone", event.ReasonUndecodable, "u1", nil, fence.Origin{Topic: h.in})
	h.expectNoMore(t)
}

func TestNewNeedsPseudonyms(t *testing.T) {
	_, err := New(cluster.Config{Brokers: []string{"tester"}, Namespace: ns}, goka.WithTester(tester.New(t)))
	if err == nil || !errors.Is(err, cluster.ErrNoPseudonyms) {
		t.Errorf("New without pseudonyms: %v, want %v", err, cluster.ErrNoPseudonyms)
	}
}
