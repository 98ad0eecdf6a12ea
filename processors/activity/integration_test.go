package activity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/testenv"
)

// rawRecord is one record for the raw activity topic and what the gateway must make of it.
type rawRecord struct {
	key, value string
	want       event.Reason // "" = accepted
}

// knownRecords returns good records of 20 canary users (each with a distinctive raw id that must
// never leave the raw topics) and bad records of every reason.
func knownRecords() (recs []rawRecord, users []string) {
	at := func(i int) string { return time.Date(2024, 3, 1, 10, 0, i%60, 0, time.UTC).Format(time.RFC3339) }
	rec := func(user, typ, product, tm string) string {
		s := `{"event_id":"a","user_id":"` + user + `","type":"` + typ + `"`
		if product != "" {
			s += `,"product_id":"` + product + `"`
		}
		return s + `,"time":"` + tm + `"}`
	}
	for u := 0; u < 20; u++ {
		users = append(users, fmt.Sprintf("canary-raw-user-%03d", u))
	}
	types := []string{"page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "checkout_start"}
	for i := 0; i < 120; i++ {
		u := users[i%len(users)]
		recs = append(recs, rawRecord{u, rec(u, types[i%len(types)], fmt.Sprintf("P%d", i%7), at(i)), ""})
	}
	bad := []struct {
		n      int
		reason event.Reason
		value  func(i int) string
	}{
		{3, event.ReasonMissingUser, func(i int) string { return rec("", "page_view", "", at(i)) }},
		{4, event.ReasonMissingProduct, func(i int) string { return rec(users[i], types[1+2*(i%2)], "", at(i)) }},
		{5, event.ReasonBadType, func(i int) string { return rec(users[i], "wishlist_add", "P1", at(i)) }},
		{2, event.ReasonBadTime, func(i int) string { return rec(users[i], "page_view", "", "1999-12-31T23:59:59Z") }},
		{6, event.ReasonUndecodable, func(i int) string { return rec(users[i], "page_view", "", at(i))[:30+i] }},
	}
	for _, b := range bad {
		for i := 0; i < b.n; i++ {
			recs = append(recs, rawRecord{users[i], b.value(i), b.reason})
		}
	}
	return recs, users
}

// TestGatewayOnKafka emits known raw records and reads back the clean and dead-letter topics:
// exact counts per reason, one clean record per good record keyed by the right pseudonym, each
// with a distinct origin, and no raw user id on the clean topic.
func TestGatewayOnKafka(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		logs := &syncBuffer{}
		cfg := cluster.Config{
			Brokers:    k.Brokers(),
			Namespace:  testenv.Namespace(t),
			DataDir:    t.TempDir(),
			Pseudonyms: pseudonym.Demo(),
			Observer:   obs,
			Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		if err := activity.EnsureOutputs(cfg); err != nil {
			t.Fatal(err)
		}
		recs, users := knownRecords()
		emit(t, cfg, recs)

		wantClean := map[string]int{} // pseudonym → records
		wantDead := map[event.Reason]int{}
		wantObs := map[outcome.Outcome]int64{}
		for _, r := range recs {
			if r.want == "" {
				wantClean[pseudonym.Demo().Of(r.key)]++
				wantObs[outcome.Accepted]++
				continue
			}
			wantDead[r.want]++
			wantObs[outcome.Rejected(r.want)]++
		}

		stop := start(t, cfg)
		waitObserved(t, obs, len(recs))
		stop()

		clean := testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanActivity)))
		gotClean := map[string]int{}
		origins := map[string]bool{}
		for _, r := range clean {
			a, err := codecs.DecodeActivity(r.Value)
			if err != nil {
				t.Fatalf("clean record does not decode: %v", err)
			}
			if a.UserID != string(r.Key) {
				t.Errorf("clean record keyed %q holds user %q", r.Key, a.UserID)
			}
			for _, u := range users {
				if bytes.Contains(r.Value, []byte(u)) || bytes.Contains(r.Key, []byte(u)) {
					t.Errorf("raw user id %q on the clean topic", u)
				}
			}
			gotClean[string(r.Key)]++
			origins[header(r, fence.Header)] = true
		}
		if fmt.Sprint(gotClean) != fmt.Sprint(wantClean) {
			t.Errorf("clean records per pseudonym %v, want %v", gotClean, wantClean)
		}
		if len(origins) != len(clean) || origins[""] {
			t.Errorf("%d distinct origins on %d clean records", len(origins), len(clean))
		}

		gotDead := map[event.Reason]int{}
		for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.DeadLetter))) {
			dl, err := codecs.DecodeDeadLetter(r.Value)
			if err != nil {
				t.Fatalf("dead letter does not decode: %v", err)
			}
			if dl.Processor != activity.Processor || dl.Source != string(r.Key) || header(r, fence.Header) != dl.Source {
				t.Errorf("dead letter from %q source %q key %q origin %q", dl.Processor, dl.Source, r.Key, header(r, fence.Header))
			}
			gotDead[event.Reason(dl.Reason)]++
		}
		if fmt.Sprint(gotDead) != fmt.Sprint(wantDead) {
			t.Errorf("dead letters per reason %v, want %v", gotDead, wantDead)
		}
		if got := obs.Of(activity.Processor); fmt.Sprint(got) != fmt.Sprint(wantObs) {
			t.Errorf("observer counts %v, want %v", got, wantObs)
		}
		if bytes.Contains(logs.Bytes(), []byte("canary-raw-user")) {
			t.Errorf("a raw user id in the log output")
		}
		if logs.Len() == 0 {
			t.Errorf("no log output captured: the check above would be vacuous")
		}
	})
}

// emit writes recs to the raw activity topic and waits for every acknowledgement.
func emit(t *testing.T, cfg cluster.Config, recs []rawRecord) {
	t.Helper()
	em, err := goka.NewEmitter(cfg.Brokers, cfg.Namespace.Stream(topology.Activity), new(codec.Bytes), cfg.EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(recs))
	for _, r := range recs {
		p, err := em.Emit(r.key, []byte(r.value))
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

// start runs the gateway in the background and returns a function that stops it cleanly.
func start(t *testing.T, cfg cluster.Config) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p, err := activity.New(cfg)
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

// waitObserved waits until the gateway has judged n records.
func waitObserved(t *testing.T, obs *outcome.Counts, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var total int64
	for time.Now().Before(deadline) {
		total = 0
		for _, v := range obs.Of(activity.Processor) {
			total += v
		}
		if total >= int64(n) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("gateway judged %d of %d records in 90 s", total, n)
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
