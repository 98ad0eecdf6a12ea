package journeys

import (
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

// TestAddActivityKeepsAnEventOnce: the same event delivered again at a new offset (a file replayed
// twice) is kept once, so a journey counts it once; another event at the same time is kept.
func TestAddActivityKeepsAnEventOnce(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	view := func(id string) *event.Activity {
		return &event.Activity{EventID: id, UserID: "u", SessionID: "s", Type: event.PageView, Time: at}
	}
	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{"one event", []string{"e1"}, []string{"e1"}},
		{"the same event three times", []string{"e1", "e1", "e1"}, []string{"e1"}},
		{"repeats interleaved", []string{"e2", "e1", "e2", "e1"}, []string{"e1", "e2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := &User{}
			for _, id := range tc.ids {
				u.AddActivity(view(id))
			}
			var got []string
			for _, e := range u.Events {
				got = append(got, e.ID)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("events %v, want %v", got, tc.want)
				}
			}
		})
	}
}
