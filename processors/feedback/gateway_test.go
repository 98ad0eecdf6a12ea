package feedback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
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

// harness runs processors on one goka tester, with trackers on the outputs.
type harness struct {
	tt    *tester.Tester
	cfg   cluster.Config
	obs   *outcome.Counts
	raw   string
	clean *tester.QueueTracker
	dead  *tester.QueueTracker
}

func newHarness(t *testing.T) *harness {
	tt := tester.New(t)
	obs := &outcome.Counts{}
	return &harness{
		tt:    tt,
		cfg:   cluster.Config{Brokers: []string{"tester"}, Namespace: ns, Pseudonyms: pseudonym.Demo(), Observer: obs},
		obs:   obs,
		raw:   string(ns.Stream(topology.Feedback)),
		clean: tt.NewQueueTracker(string(ns.Stream(topology.CleanFeedback))),
		dead:  tt.NewQueueTracker(string(ns.Stream(topology.DeadLetter))),
	}
}

// run starts a processor built by build on the harness' tester until the test ends.
func (h *harness) run(t *testing.T, build func(cluster.Config, ...goka.ProcessorOption) (*goka.Processor, error)) {
	t.Helper()
	p, err := build(h.cfg, goka.WithTester(h.tt))
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
}

const t0 = "2024-03-02T08:00:00Z"

func rawReview(id, user, product string, rating int, title, text, tm string) string {
	return fmt.Sprintf(`{"review_id":%q,"user_id":%q,"product_id":%q,"rating":%d,"title":%q,"text":%q,"time":%q}`,
		id, user, product, rating, title, text, tm)
}

func good(id string) string { return rawReview(id, "u1", "P7", 4, "Nice", "Works.", t0) }

// cleanOf is what the gateway must emit for an accepted raw review.
func cleanOf(t *testing.T, raw string) (key string, value []byte) {
	t.Helper()
	r, err := codecs.DecodeReview([]byte(raw))
	if err != nil {
		t.Fatalf("test input does not decode: %v", err)
	}
	r.UserID = pseudonym.Demo().Of(r.UserID)
	b, err := codecs.Review{}.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return r.ProductID, b
}

func TestGatewayRulesInOrder(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := []struct {
		name string
		raw  string
		want event.Reason // "" = accepted
	}{
		{"good", good("r-good"), ""},
		{"rating 1", rawReview("r-1", "u1", "P7", 1, "", "", t0), ""},
		{"rating 5", rawReview("r-5", "u1", "P7", 5, "", "", t0), ""},
		{"title at limit", rawReview("r-t200", "u1", "P7", 3, long("a", 200), "", t0), ""},
		{"title at limit in 2-byte characters", rawReview("r-t200e", "u1", "P7", 3, long("é", 200), "", t0), ""},
		{"text at limit", rawReview("r-x10k", "u1", "P7", 3, "", long("z", 10_000), t0), ""},
		{"text at limit in 3-byte characters", rawReview("r-x10kh", "u1", "P7", 3, "", long("語", 10_000), t0), ""},
		{"first instant", rawReview("r-t2000", "u1", "P7", 3, "", "", "2000-01-01T00:00:00Z"), ""},
		{"empty user", rawReview("r-nu", "", "P7", 4, "", "", t0), event.ReasonMissingUser},
		{"absent user", `{"review_id":"r-au","product_id":"P7","rating":4,"time":"` + t0 + `"}`, event.ReasonMissingUser},
		{"empty product", rawReview("r-np", "u1", "", 4, "", "", t0), event.ReasonMissingProduct},
		{"before 2000", rawReview("r-old", "u1", "P7", 4, "", "", "1999-12-31T23:59:59Z"), event.ReasonBadTime},
		{"from 2100", rawReview("r-new", "u1", "P7", 4, "", "", "2100-01-01T00:00:00Z"), event.ReasonBadTime},
		{"rating 0", rawReview("r-r0", "u1", "P7", 0, "", "", t0), event.ReasonBadRating},
		{"rating 6", rawReview("r-r6", "u1", "P7", 6, "", "", t0), event.ReasonBadRating},
		{"rating -1", rawReview("r-rm", "u1", "P7", -1, "", "", t0), event.ReasonBadRating},
		{"absent rating", `{"review_id":"r-ar","user_id":"u1","product_id":"P7","time":"` + t0 + `"}`, event.ReasonBadRating},
		{"title over limit", rawReview("r-t201", "u1", "P7", 3, long("é", 201), "", t0), event.ReasonTextTooLong},
		{"text over limit", rawReview("r-x10k1", "u1", "P7", 3, "", long("z", 10_001), t0), event.ReasonTextTooLong},
		// The first failing rule decides.
		{"user before product", rawReview("r-o1", "", "", 9, long("a", 300), "", "1970-01-01T00:00:00Z"), event.ReasonMissingUser},
		{"product before time", rawReview("r-o2", "u1", "", 9, long("a", 300), "", "1970-01-01T00:00:00Z"), event.ReasonMissingProduct},
		{"time before rating", rawReview("r-o3", "u1", "P7", 9, long("a", 300), "", "1970-01-01T00:00:00Z"), event.ReasonBadTime},
		{"rating before length", rawReview("r-o4", "u1", "P7", 9, long("a", 300), "", t0), event.ReasonBadRating},
		// Bytes that are not a review.
		{"not json", `{"review_id":`, event.ReasonUndecodable},
		{"no review id", `{"user_id":"u1","product_id":"P7","rating":4,"time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"rating as text", `{"review_id":"r-rt","user_id":"u1","product_id":"P7","rating":"4","time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"fractional rating", `{"review_id":"r-rf","user_id":"u1","product_id":"P7","rating":4.5,"time":"` + t0 + `"}`, event.ReasonUndecodable},
		{"unknown field", `{"review_id":"r-uf","user_id":"u1","product_id":"P7","rating":4,"stars":4,"time":"` + t0 + `"}`, event.ReasonUndecodable},
	}
	h := newHarness(t)
	h.run(t, NewGateway)
	want := map[outcome.Outcome]int64{}
	claims := map[string]int64{}
	for i, c := range cases {
		key := fmt.Sprintf("key-%02d", i)
		h.tt.Consume(h.raw, key, []byte(c.raw))
		o := fence.Origin{Topic: h.raw, Partition: 0, Offset: int64(i)}
		if c.want == "" {
			want[outcome.Accepted]++
			claims[key] = int64(i)
			k, v := cleanOf(t, c.raw)
			h.expectClean(t, c.name, k, v, o)
			continue
		}
		want[outcome.Rejected(c.want)]++
		h.expectDeadLetter(t, c.name, c.want, key, []byte(c.raw), o)
	}
	h.expectNoMore(t)
	if got := h.obs.Of(GatewayProcessor); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observer counts %v, want %v", got, want)
	}
	h.expectClaims(t, claims)
}

// TestGatewayDedupeAndRedelivery: the first accepted record claims its review id; another record
// of the id is a duplicate (whatever it holds); a rejected record claims nothing; the claiming
// record delivered again re-emits the same bytes and origin.
func TestGatewayDedupeAndRedelivery(t *testing.T) {
	h := newHarness(t)
	h.run(t, NewGateway)
	table := ns.Table(GatewayGroup)
	steps := []struct {
		key, raw string
		want     outcome.Outcome
	}{
		{"r1", good("r1"), outcome.Accepted},                                                        // offset 0 claims r1
		{"r1", good("r1"), outcome.Duplicate},                                                       // a re-send
		{"r1", rawReview("r1", "u2", "P8", 1, "", "", t0), outcome.Duplicate},                       // same id, other content
		{"r2", rawReview("r2", "", "P7", 4, "", "", t0), outcome.Rejected(event.ReasonMissingUser)}, // claims nothing
		{"r2", good("r2"), outcome.Accepted},                                                        // offset 4 claims r2
		{"r1", rawReview("r1", "", "P7", 4, "", "", t0), outcome.Rejected(event.ReasonMissingUser)}, // rules come first
	}
	counts := map[outcome.Outcome]int64{}
	for i, s := range steps {
		h.tt.Consume(h.raw, s.key, []byte(s.raw))
		counts[s.want]++
		o := fence.Origin{Topic: h.raw, Offset: int64(i)}
		switch s.want {
		case outcome.Accepted:
			k, v := cleanOf(t, s.raw)
			h.expectClean(t, fmt.Sprintf("step %d", i), k, v, o)
		case outcome.Duplicate:
		default:
			h.expectDeadLetter(t, fmt.Sprintf("step %d", i), event.ReasonMissingUser, s.key, []byte(s.raw), o)
		}
		h.expectNoMore(t)
	}
	h.expectClaims(t, map[string]int64{"r1": 0, "r2": 4})

	// A crash after the claim was stored but before the input offset was committed: the record
	// comes again at the offset its claim names.
	next := int64(len(steps))
	h.tt.SetTableValue(table, "r3", &Claim{Offset: next})
	h.tt.Consume(h.raw, "r3", []byte(good("r3")))
	counts[outcome.Accepted]++
	k, v := cleanOf(t, good("r3"))
	h.expectClean(t, "redelivery", k, v, fence.Origin{Topic: h.raw, Offset: next})
	h.expectNoMore(t)
	h.expectClaims(t, map[string]int64{"r1": 0, "r2": 4, "r3": next})
	if got := h.obs.Of(GatewayProcessor); fmt.Sprint(got) != fmt.Sprint(counts) {
		t.Errorf("observer counts %v, want %v", got, counts)
	}
}

func TestGatewayPseudonymizes(t *testing.T) {
	h := newHarness(t)
	h.run(t, NewGateway)
	users := []string{"raw-reviewer-4711", "raw-reviewer-0815", "raw-reviewer-4711"}
	for i, u := range users {
		h.tt.Consume(h.raw, fmt.Sprint("r", i), []byte(rawReview(fmt.Sprint("r", i), u, "P1", 5, "", "", t0)))
	}
	var got []string
	for range users {
		hdr, k, v, ok := h.clean.NextRawWithHeaders()
		if !ok {
			t.Fatal("missing clean review")
		}
		for _, raw := range users {
			if bytes.Contains(v, []byte(raw)) || strings.Contains(k, raw) || bytes.Contains(hdr[fence.Header], []byte(raw)) {
				t.Errorf("raw id %q in clean record %s=%s", raw, k, v)
			}
		}
		r, err := codecs.DecodeReview(v)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.UserID)
	}
	ps := pseudonym.Demo()
	want := []string{ps.Of(users[0]), ps.Of(users[1]), ps.Of(users[0])}
	if fmt.Sprint(got) != fmt.Sprint(want) || got[0] == got[1] || !ps.Is(got[0]) {
		t.Errorf("reviewers %v, want %v (distinct pseudonyms)", got, want)
	}
}

func TestNewNeedsPseudonyms(t *testing.T) {
	_, err := NewGateway(cluster.Config{Brokers: []string{"tester"}}, goka.WithTester(tester.New(t)))
	if !errors.Is(err, cluster.ErrNoPseudonyms) {
		t.Errorf("NewGateway without pseudonyms: %v, want %v", err, cluster.ErrNoPseudonyms)
	}
}

func (h *harness) expectClean(t *testing.T, name, key string, value []byte, o fence.Origin) {
	t.Helper()
	hdr, k, v, ok := h.clean.NextRawWithHeaders()
	if !ok {
		t.Fatalf("%s: nothing on the clean topic", name)
	}
	if k != key || !bytes.Equal(v, value) {
		t.Errorf("%s: clean record %s=%.200s, want %s=%.200s", name, k, v, key, value)
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
	if k != o.String() || event.Reason(dl.Reason) != reason || dl.Source != o.String() ||
		string(dl.Key) != key || !bytes.Equal(dl.Original, original) || string(hdr[fence.Header]) != o.String() {
		t.Errorf("%s: dead letter key %q reason %q source %q key %q original %.80q, want %q %q %q %q %.80q",
			name, k, dl.Reason, dl.Source, dl.Key, dl.Original, o, reason, o, key, original)
	}
}

func (h *harness) expectNoMore(t *testing.T) {
	t.Helper()
	if k, v, ok := h.clean.NextRaw(); ok {
		t.Errorf("unexpected clean record %s=%.200s", k, v)
	}
	if k, v, ok := h.dead.NextRaw(); ok {
		t.Errorf("unexpected dead letter %s=%.200s", k, v)
	}
}

// expectClaims checks the claim table holds exactly want.
func (h *harness) expectClaims(t *testing.T, want map[string]int64) {
	t.Helper()
	table := ns.Table(GatewayGroup)
	got := map[string]int64{}
	for _, k := range h.tt.GetTableKeys(table) {
		got[k] = h.tt.TableValue(table, k).(*Claim).Offset
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("claims %v, want %v", got, want)
	}
}
