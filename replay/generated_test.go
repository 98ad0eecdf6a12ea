package replay

import (
	"context"
	"maps"
	"testing"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestDryRunGenerated replays generated histories (every file form) without a broker and compares
// the counts with the generator's truth: rows read, rows replay rejects per reason, rows sent.
func TestDryRunGenerated(t *testing.T) {
	forms := []struct {
		name     string
		activity generate.Form
		feedback generate.Form
		gzip     bool
	}{
		{"ndjson", generate.FormNDJSON, generate.FormNDJSON, false},
		{"arrays gzipped", generate.FormArray, generate.FormArray, true},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			gc := generate.Tiny()
			gc.Dir = t.TempDir()
			gc.ActivityForm, gc.FeedbackForm, gc.Gzip = f.activity, f.feedback, f.gzip
			gc.Dirt.ActTruncatedFile = 1 // every array file cut inside its last object
			truth, err := generate.Run(context.Background(), gc, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Paths, cfg.DryRun, cfg.RejectsPath = []string{gc.Dir}, true, ""
			s := run(t, cfg)
			for name, want := range truth.Datasets {
				got := s.Datasets[name]
				if got == nil {
					t.Errorf("%s: not replayed", name)
					continue
				}
				wantRejected := nonZero(want.Unparseable)
				wantSent := want.Sent
				// The truth counts an unknown type as the gateway's bad_type; the raw topics'
				// codec cannot carry one, so replay already rejects it with that reason.
				if n := want.Rejected[event.ReasonBadType]; n > 0 {
					wantRejected[event.ReasonBadType] = n
					wantSent -= n
				}
				if got.Read != want.Rows || got.Sent != wantSent || !maps.Equal(nonZero(got.Rejected), wantRejected) {
					t.Errorf("%s: read %d sent %d rejected %v; want rows %d sent %d rejected %v",
						name, got.Read, got.Sent, got.Rejected, want.Rows, wantSent, wantRejected)
				}
			}
		})
	}
}

func nonZero(m map[event.Reason]int64) map[event.Reason]int64 {
	out := map[event.Reason]int64{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

// TestReplayGenerated replays a generated history into each broker: every topic holds the
// generator's count of records, the dead-letter topic its count of rows replay rejects, and a
// second replay changes nothing.
func TestReplayGenerated(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		gc := generate.Tiny()
		gc.Dir = t.TempDir()
		gc.ActivityForm, gc.Gzip = generate.FormArray, true
		truth, err := generate.Run(context.Background(), gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, gc.Dir)
		want := map[string]int{}
		deadLetters := 0
		for name, d := range truth.Datasets {
			bad := int(d.Rejected[event.ReasonBadType]) // rejected by replay, see TestDryRunGenerated
			want[string(ns.Stream(dataset(name).topic()))] = int(d.Sent) - bad
			for _, n := range d.Unparseable {
				deadLetters += int(n)
			}
			deadLetters += bad
		}
		want[string(ns.Stream(topology.DeadLetter))] = deadLetters
		for pass := 1; pass <= 2; pass++ {
			s := run(t, cfg)
			if pass == 1 && (s.Total.Lost != 0 || s.Total.Sent+s.Total.RejectedTotal() != s.Total.Read) {
				t.Errorf("replay: %+v", s.Total)
			}
			if pass == 2 && (s.Total.Read != 0 || s.Total.Skipped == 0) {
				t.Errorf("second replay: %+v, want a no-op", s.Total)
			}
			for topic, n := range want {
				recs := readTopic(t, k.Brokers(), topic)
				if d, _ := duplicates(recs); len(recs) != n || d != 0 {
					t.Errorf("pass %d: %s holds %d records (%d duplicates), want %d", pass, topic, len(recs), d, n)
				}
			}
		}
	})
}
