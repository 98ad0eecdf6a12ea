package activity_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

// TestGeneratedHistoryMatchesTruth replays the activity of a Tiny generated history into each
// Kafka and runs the gateway over it: replay's rejects per reason equal the truth's unparseable
// rows (unknown types among them, as bad_type), the gateway's outcomes per reason equal the truth's
// rejected rows, and the clean events per type and the events and distinct (pseudonymous) users
// per minute equal the truth's.
func TestGeneratedHistoryMatchesTruth(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := truth.Datasets[generate.DatasetActivity]
	if want.Accepted == 0 || want.Rejected[event.ReasonMissingUser] == 0 || want.Unparseable[event.ReasonBadType] == 0 {
		t.Fatalf("Tiny history lacks the dirt this test needs: %+v", want)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Pseudonyms: pseudonym.Demo(), Observer: obs, Logger: logger,
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		rc := replay.DefaultConfig()
		rc.EndOfInput = true // as `shopease replay` does: the gateways forward the markers
		rc.Paths, rc.Brokers, rc.Namespace = []string{filepath.Join(dir, generate.DatasetActivity)}, cfg.Brokers, cfg.Namespace
		rc.Dataset = generate.DatasetActivity
		rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
		sum, err := replay.Run(context.Background(), rc, logger)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		rs := sum.Datasets[generate.DatasetActivity]
		if rs == nil || rs.Read != want.Rows {
			t.Fatalf("replay read %+v, truth has %d rows", rs, want.Rows)
		}

		stop := runAll(t, func(ctx context.Context) error { return activity.Run(ctx, cfg) })
		waitObserved(t, obs, int(rs.Sent))
		// The markers follow the last event: the gateway must pass them on before it stops.
		clean := string(cfg.Namespace.Stream(topology.CleanActivity))
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if n := len(testenv.ReadTopic(t, cfg.Brokers, clean)); int64(n) >= want.Accepted+4*4 || time.Now().After(deadline) {
				break
			}
		}
		stop()

		got := obs.Of(activity.Processor)
		wantGot := map[outcome.Outcome]int64{outcome.Accepted: want.Accepted}
		for r, n := range want.Rejected {
			wantGot[outcome.Rejected(r)] = n
		}
		if fmt.Sprint(got) != fmt.Sprint(wantGot) {
			t.Errorf("gateway outcomes %v, truth %v", got, wantGot)
		}
		if fmt.Sprint(rs.Rejected) != fmt.Sprint(want.Unparseable) {
			t.Errorf("replay rejects %v, truth's unparseable rows %v", rs.Rejected, want.Unparseable)
		}
		var judged int64
		for _, n := range got {
			judged += n
		}
		if judged != rs.Sent {
			t.Errorf("gateway judged %d records, replay sent %d", judged, rs.Sent)
		}
		checkCleanAgainstTruth(t, cfg, truth)
	})
}

// checkCleanAgainstTruth compares the clean topic with the truth: accepted events per type, and per
// minute the events and the distinct users, which only agree if every raw id always maps to the
// same pseudonym and distinct ids to distinct ones.
func checkCleanAgainstTruth(t *testing.T, cfg cluster.Config, truth *generate.Truth) {
	t.Helper()
	type minute struct {
		events int64
		users  map[string]bool
	}
	byType := map[string]int64{}
	minutes := map[time.Time]*minute{}
	markers := 0
	for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanActivity))) {
		if slices.ContainsFunc(r.Headers, func(h kgo.RecordHeader) bool { return h.Key == event.HeaderControl }) {
			markers++ // the replay's end-of-input markers, forwarded (docs/formats.md): no event
			continue
		}
		a, err := codecs.DecodeActivity(r.Value)
		if err != nil {
			t.Fatalf("clean record does not decode: %v", err)
		}
		byType[string(a.Type)]++
		m := minutes[a.Time.Truncate(time.Minute)]
		if m == nil {
			m = &minute{users: map[string]bool{}}
			minutes[a.Time.Truncate(time.Minute)] = m
		}
		m.events++
		m.users[a.UserID] = true
	}
	// Every raw partition's marker goes to every clean partition (4 and 4).
	if markers != 4*4 {
		t.Errorf("%d end-of-input markers on the clean topic, want 16", markers)
	}
	if fmt.Sprint(byType) != fmt.Sprint(truth.Datasets[generate.DatasetActivity].AcceptedByType) {
		t.Errorf("clean events per type %v, truth %v", byType, truth.Datasets[generate.DatasetActivity].AcceptedByType)
	}
	var checked, bad int
	for _, tm := range truth.Minutes {
		if tm.Events == 0 {
			continue
		}
		checked++
		var events, users int64
		if m := minutes[tm.Minute.UTC()]; m != nil {
			events, users = m.events, int64(len(m.users))
		}
		if events != tm.Events || users != tm.ActiveUsers {
			if bad++; bad <= 5 {
				t.Errorf("minute %s: clean %d events of %d users, truth %d of %d", tm.Minute, events, users, tm.Events, tm.ActiveUsers)
			}
		}
	}
	if checked != len(minutes) {
		t.Errorf("clean events in %d minutes, truth has %d minutes with events", len(minutes), checked)
	}
}

// runAll runs run (a package's Run, which creates its output topic itself) in the background and
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
