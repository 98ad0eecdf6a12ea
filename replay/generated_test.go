package replay

import (
	"context"
	"maps"
	"testing"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
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
