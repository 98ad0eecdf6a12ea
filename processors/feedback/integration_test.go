package feedback_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// rawRecord is one record for the raw feedback topic; value nil is a tombstone.
type rawRecord struct {
	key   string
	value []byte
	want  outcome.Outcome
}

// expected is what a set of raw records must produce.
type expected struct {
	obs     map[outcome.Outcome]int64
	dead    map[event.Reason]int
	ratings map[string]feedback.Rating // without fences
	claims  map[string]bool
	clean   int
}

func newExpected() *expected {
	return &expected{obs: map[outcome.Outcome]int64{}, dead: map[event.Reason]int{}, ratings: map[string]feedback.Rating{}, claims: map[string]bool{}}
}

func review(id, user, product string, rating int, title, text, tm string) []byte {
	return fmt.Appendf(nil, `{"review_id":%q,"user_id":%q,"product_id":%q,"rating":%d,"title":%q,"text":%q,"time":%q}`,
		id, user, product, rating, title, text, tm)
}

// round returns the raw records of one round: good reviews of canary users over five products,
// re-sent copies (of this round's and, from round 2 on, earlier rounds' reviews) and bad records
// of every reason. exp is updated with what they must produce.
func round(n int, exp *expected) []rawRecord {
	const t0 = "2024-03-02T08:00:00Z"
	var recs []rawRecord
	add := func(key string, value []byte, want outcome.Outcome) {
		recs = append(recs, rawRecord{key, value, want})
		exp.obs[want]++
		if r, ok := strings.CutPrefix(string(want), "rejected/"); ok {
			exp.dead[event.Reason(r)]++
		}
	}
	for i := 0; i < 30; i++ {
		id := fmt.Sprintf("r%d-%02d", n, i)
		product := fmt.Sprintf("P%d", i%5)
		rating := 1 + (i*7+n)%5
		add(id, review(id, canary(i), product, rating, "Title", "Some text.", t0), outcome.Accepted)
		r := exp.ratings[product]
		r.Add(rating)
		exp.ratings[product] = r
		exp.claims[id] = true
		exp.clean++
	}
	for i := 0; i < 5; i++ { // re-sends, byte for byte
		id := fmt.Sprintf("r%d-%02d", n-i%n, i)
		add(id, review(id, canary(i), fmt.Sprintf("P%d", i%5), 1+(i*7+n-i%n)%5, "Title", "Some text.", t0), outcome.Duplicate)
	}
	id := fmt.Sprintf("r%d-07", n) // the same id with other content is a duplicate too
	add(id, review(id, canary(9), "P4", 1, "", "", t0), outcome.Duplicate)
	bad := []struct {
		reason event.Reason
		value  []byte
	}{
		{event.ReasonMissingUser, review("b1", "", "P1", 5, "", "", t0)},
		{event.ReasonMissingUser, review("b2", "", "P2", 1, "", "", t0)},
		{event.ReasonMissingProduct, review("b3", canary(1), "", 5, "", "", t0)},
		{event.ReasonMissingProduct, review("b4", canary(2), "", 3, "", "", t0)},
		{event.ReasonBadTime, review("b5", canary(3), "P1", 5, "", "", "1999-12-31T00:00:00Z")},
		{event.ReasonBadRating, review("b6", canary(4), "P1", 0, "", "", t0)},
		{event.ReasonBadRating, review("b7", canary(5), "P1", 6, "", "", t0)},
		{event.ReasonBadRating, review("b8", canary(6), "P2", -3, "", "", t0)},
		{event.ReasonTextTooLong, review("b9", canary(7), "P1", 5, strings.Repeat("t", 201), "", t0)},
		{event.ReasonTextTooLong, review("b10", canary(8), "P1", 5, "", strings.Repeat("x", 10_001), t0)},
		{event.ReasonUndecodable, []byte(`{"review_id":"b11","user_id":"` + canary(9))},
		{event.ReasonUndecodable, []byte(`not json`)},
		{event.ReasonUndecodable, nil},
	}
	for i, b := range bad {
		add(fmt.Sprintf("b%d-%d", n, i), b.value, outcome.Rejected(b.reason))
	}
	return recs
}

func canary(i int) string { return fmt.Sprintf("canary-raw-reviewer-%03d", i) }

// TestFeedbackOnKafka runs the gateway and the ratings processor on the embedded broker and on
// real Kafka: exact outcomes, dead letters per reason, clean reviews without raw ids, and exact
// ratings — also after a second round with re-sends of the first round's reviews, processed by
// restarted processors whose ratings state was deleted and recovered from the changelog.
func TestFeedbackOnKafka(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		logs := &syncBuffer{}
		dataDir := t.TempDir()
		cfg := cluster.Config{
			Brokers:    k.Brokers(),
			Namespace:  testenv.Namespace(t),
			DataDir:    dataDir,
			Storage:    func(dir string) storage.Builder { return tables.NewBuilder(dir) },
			Pseudonyms: pseudonym.Demo(),
			Observer:   obs,
			Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		if err := feedback.EnsureOutputs(cfg); err != nil {
			t.Fatal(err)
		}
		exp := newExpected()
		var sent int
		for n := 1; n <= 2; n++ {
			recs := round(n, exp)
			emit(t, cfg, recs)
			sent += len(recs)
			if n == 2 {
				// The ratings state is recovered from its changelog, fences included.
				if err := os.RemoveAll(filepath.Join(dataDir, "processor", string(cfg.Namespace.Group(feedback.RatingsGroup)))); err != nil {
					t.Fatal(err)
				}
			}
			stopGateway := start(t, cfg, feedback.NewGateway)
			stopRatings := start(t, cfg, feedback.NewRatings)
			waitObserved(t, obs, feedback.GatewayProcessor, int64(sent))
			waitObserved(t, obs, feedback.RatingsProcessor, int64(exp.clean))
			stopGateway()
			stopRatings()
		}
		if got := obs.Of(feedback.GatewayProcessor); fmt.Sprint(got) != fmt.Sprint(exp.obs) {
			t.Errorf("gateway outcomes %v, want %v", got, exp.obs)
		}
		if got := obs.Of(feedback.RatingsProcessor); fmt.Sprint(got) != fmt.Sprint(map[outcome.Outcome]int64{outcome.Accepted: int64(exp.clean)}) {
			t.Errorf("ratings outcomes %v, want %d accepted", got, exp.clean)
		}
		checkClean(t, cfg, exp)
		checkDeadLetters(t, cfg, exp)
		checkTables(t, cfg, exp)
		if bytes.Contains(logs.Bytes(), []byte("canary-raw-reviewer")) {
			t.Errorf("a raw user id in the log output")
		}
		if logs.Len() == 0 {
			t.Errorf("no log output captured: the check above would be vacuous")
		}
	})
}

func checkClean(t *testing.T, cfg cluster.Config, exp *expected) {
	t.Helper()
	recs := testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanFeedback)))
	if len(recs) != exp.clean {
		t.Errorf("%d clean reviews, want %d", len(recs), exp.clean)
	}
	for _, r := range recs {
		rv, err := codecs.DecodeReview(r.Value)
		if err != nil {
			t.Fatalf("clean review does not decode: %v", err)
		}
		if string(r.Key) != rv.ProductID || !cfg.Pseudonyms.Is(rv.UserID) || header(r, fence.Header) == "" {
			t.Errorf("clean review keyed %q: product %q reviewer %q origin %q", r.Key, rv.ProductID, rv.UserID, header(r, fence.Header))
		}
		if bytes.Contains(r.Value, []byte("canary-raw")) {
			t.Errorf("raw user id on the clean topic: %s", r.Value)
		}
	}
}

func checkDeadLetters(t *testing.T, cfg cluster.Config, exp *expected) {
	t.Helper()
	got := map[event.Reason]int{}
	for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.DeadLetter))) {
		dl, err := codecs.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("dead letter does not decode: %v", err)
		}
		if dl.Processor != feedback.GatewayProcessor || dl.Source != string(r.Key) {
			t.Errorf("dead letter from %q source %q key %q", dl.Processor, dl.Source, r.Key)
		}
		got[event.Reason(dl.Reason)]++
	}
	if fmt.Sprint(got) != fmt.Sprint(exp.dead) {
		t.Errorf("dead letters per reason %v, want %v", got, exp.dead)
	}
}

// checkTables reads both tables through fresh views.
func checkTables(t *testing.T, cfg cluster.Config, exp *expected) {
	t.Helper()
	viewCfg := cfg
	viewCfg.Storage = nil // views keep their copy in memory
	ratings := runView(t, viewCfg, feedback.NewRatingsView)
	for p, want := range exp.ratings {
		v, err := ratings.Get(p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := v.(*feedback.Rating)
		if got == nil {
			t.Errorf("%s: no rating", p)
			continue
		}
		if fmt.Sprint(got.Count, got.Sum, got.Dist) != fmt.Sprint(want.Count, want.Sum, want.Dist) || len(got.Fence) == 0 {
			t.Errorf("%s: rating %d %d %v (fence %v), want %d %d %v", p, got.Count, got.Sum, got.Dist, got.Fence, want.Count, want.Sum, want.Dist)
		}
	}
	claims := runView(t, viewCfg, feedback.NewClaimsView)
	it, err := claims.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if !exp.claims[it.Key()] {
			t.Errorf("unexpected claim %q", it.Key())
		}
		n++
	}
	if n != len(exp.claims) {
		t.Errorf("%d claims, want %d", n, len(exp.claims))
	}
}

func runView(t *testing.T, cfg cluster.Config, build func(cluster.Config, ...goka.ViewOption) (*goka.View, error)) *goka.View {
	t.Helper()
	v, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(60 * time.Second)
	for !v.Recovered() {
		if time.Now().After(deadline) {
			t.Fatal("view did not recover in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return v
}

// emit writes recs to the raw feedback topic and waits for every acknowledgement.
func emit(t *testing.T, cfg cluster.Config, recs []rawRecord) {
	t.Helper()
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Feedback), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(recs))
	for _, r := range recs {
		var v any
		if r.value != nil {
			v = r.value
		}
		p, err := em.Emit(r.key, v)
		if err != nil {
			t.Fatal(err)
		}
		p.Then(func(err error) { errs <- err })
	}
	if err := em.Finish(); err != nil {
		t.Fatal(err)
	}
	for range recs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// start runs a processor in the background and returns a function that stops it cleanly.
func start(t *testing.T, cfg cluster.Config, build func(cluster.Config, ...goka.ProcessorOption) (*goka.Processor, error)) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- p.Run(ctx) }()
	readyCtx, readyCancel := context.WithTimeout(ctx, 90*time.Second)
	defer readyCancel()
	if err := p.WaitForReadyContext(readyCtx); err != nil {
		cancel()
		t.Fatalf("processor not ready: %v (run: %v)", err, <-done)
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("processor: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("processor did not stop within 60 s")
		}
	}
}

// waitObserved waits until processor has judged n records in all.
func waitObserved(t *testing.T, obs *outcome.Counts, processor string, n int64) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var total int64
	for time.Now().Before(deadline) {
		total = 0
		for _, v := range obs.Of(processor) {
			total += v
		}
		if total >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s judged %d of %d records in 90 s", processor, total, n)
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
