package activity

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
)

// TestEndOfInputForwarded: an end-of-input marker on the raw topic goes, unchanged and stamped
// with its raw origin, to every partition of the clean topic (one record per ControlKeys key), after
// the events before it; it is no event, no dead letter and no outcome. A marker whose value does
// not parse is an undecodable dead letter like any other bad record.
func TestEndOfInputForwarded(t *testing.T) {
	h := start(t)
	marker := event.EndOfInput{Partitions: 4}.Encode()
	control := tester.WithHeaders(map[string][]byte{event.HeaderControl: []byte(event.ControlEndOfInput)})
	h.tt.Consume(h.in, "u1", []byte(rawActivity("u1", "page_view", "", t0)))
	h.tt.Consume(h.in, event.ControlKeys(4)[2], marker, control)
	h.tt.Consume(h.in, "u1", []byte(`{"control":"end-of-input","partitions":0}`), control)

	if _, _, ok := h.clean.NextRaw(); !ok {
		t.Fatal("the event before the marker is missing")
	}
	origin := fence.Origin{Topic: h.in, Partition: 0, Offset: 1}
	for i, key := range event.ControlKeys(4) {
		hdr, k, v, ok := h.clean.NextRawWithHeaders()
		if !ok {
			t.Fatalf("clean marker %d of 4 missing", i+1)
		}
		if k != key || !bytes.Equal(v, marker) || !event.IsEndOfInput(hdr) || string(hdr[fence.Header]) != origin.String() {
			t.Errorf("clean marker %d: key %q value %s headers %q; want key %q, value %s, control header, origin %s",
				i, k, v, hdr, key, marker, origin)
		}
	}
	h.expectDeadLetter(t, "bad marker", event.ReasonUndecodable, "u1", []byte(`{"control":"end-of-input","partitions":0}`),
		fence.Origin{Topic: h.in, Partition: 0, Offset: 2})
	h.expectNoMore(t)
	want := map[outcome.Outcome]int64{outcome.Accepted: 1, outcome.Rejected(event.ReasonUndecodable): 1}
	if got := h.obs.Of(Processor); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observer counts %v, want %v (a marker is no outcome)", got, want)
	}
}
