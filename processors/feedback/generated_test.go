package feedback_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedHistoryMatchesTruth replays the feedback of a Tiny generated history into each
// Kafka and runs the gateway and the ratings processor over it: replay's rejects equal the truth's
// unparseable rows, the gateway's outcomes per reason (duplicates included) equal the truth's, and
// every product's rating count, sum and distribution equal the truth's ratings.
func TestGeneratedHistoryMatchesTruth(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Days = 10 // reviews follow purchases by days: three days hold too few to carry every kind of dirt
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Datasets[generate.DatasetFeedback]
	if want.Accepted == 0 || want.Rejected[event.ReasonBadRating] == 0 || want.Rejected[event.ReasonMissingUser] == 0 || len(truth.Ratings) == 0 {
		t.Fatalf("Tiny history lacks the dirt this test needs: %+v, %d rated products", want, len(truth.Ratings))
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Storage:    func(dir string) storage.Builder { return tables.NewBuilder(dir) },
			Pseudonyms: pseudonym.Demo(), Observer: obs, Logger: logger,
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, generate.DatasetFeedback)}, cfg.Brokers, cfg.Namespace
		rc.Dataset = generate.DatasetFeedback
		rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
		sum, err := replay.Run(context.Background(), rc, logger)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		rs := sum.Datasets[generate.DatasetFeedback]
		if rs == nil || rs.Read != want.Rows || rs.Sent != want.Sent {
			t.Fatalf("replay read/sent %+v, truth has %d rows, %d sent", rs, want.Rows, want.Sent)
		}
		if fmt.Sprint(rs.Rejected) != fmt.Sprint(want.Unparseable) {
			t.Errorf("replay rejects %v, truth's unparseable rows %v", rs.Rejected, want.Unparseable)
		}

		stop := runAll(t, func(ctx context.Context) error { return feedback.Run(ctx, cfg) })
		waitObserved(t, obs, feedback.GatewayProcessor, rs.Sent)
		waitObserved(t, obs, feedback.RatingsProcessor, want.Accepted)
		stop()

		wantObs := map[outcome.Outcome]int64{outcome.Accepted: want.Accepted}
		if want.Duplicates > 0 {
			wantObs[outcome.Duplicate] = want.Duplicates
		}
		for r, n := range want.Rejected {
			wantObs[outcome.Rejected(r)] = n
		}
		if got := obs.Of(feedback.GatewayProcessor); fmt.Sprint(got) != fmt.Sprint(wantObs) {
			t.Errorf("gateway outcomes %v, truth %v", got, wantObs)
		}
		if got := obs.Of(feedback.RatingsProcessor); fmt.Sprint(got) != fmt.Sprint(map[outcome.Outcome]int64{outcome.Accepted: want.Accepted}) {
			t.Errorf("ratings outcomes %v, want %d accepted", got, want.Accepted)
		}

		viewCfg := cfg
		viewCfg.Storage = nil
		view := runView(t, viewCfg, feedback.NewRatingsView)
		var products int
		it, err := view.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			products++
		}
		if products != len(truth.Ratings) {
			t.Errorf("%d rated products, truth %d", products, len(truth.Ratings))
		}
		for _, tr := range truth.Ratings {
			v, err := view.Get(tr.ProductID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := v.(*feedback.Rating)
			if got == nil || got.Count != tr.Count || got.Sum != tr.Sum || got.Dist != tr.Dist {
				t.Errorf("%s: rating %+v, truth %+v", tr.ProductID, got, tr)
			}
		}
	})
}

// runAll runs run (a package's Run, which creates its output topics itself) in the background and
// returns a function that stops it and checks that it stopped cleanly.
func runAll(t *testing.T, run func(context.Context) error) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("run did not stop within 60 s")
		}
	}
}
