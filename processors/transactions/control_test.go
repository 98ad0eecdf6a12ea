package transactions

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
)

// TestEndOfInputForwarded: an end-of-input marker goes, unchanged and stamped with its raw origin,
// to every partition of the clean topic after the lines before it — not to the sales topic, not
// to the claim table, not to the observer; delivered again (a crash before the commit) it is
// forwarded again, identically. A marker value that does not parse is an undecodable dead letter.
func TestEndOfInputForwarded(t *testing.T) {
	h := newHarness(t)
	marker := event.EndOfInput{Partitions: 3}.Encode()
	control := map[string][]byte{event.HeaderControl: []byte(event.ControlEndOfInput)}
	h.consume("o000123-1", encode(t, goodLine()))
	var origins []fence.Origin
	for range 2 {
		origins = append(origins, fence.Origin{Topic: h.in, Partition: 0, Offset: h.inQ.Hwm()})
		h.tt.Consume(h.in, "any", marker, tester.WithHeaders(control))
	}
	bad := []byte(`{"control":"end-of-input"}`)
	badOrigin := fence.Origin{Topic: h.in, Partition: 0, Offset: h.inQ.Hwm()}
	h.tt.Consume(h.in, "any", bad, tester.WithHeaders(control))

	clean := drain(t, h.clean)
	if len(clean) != 1+2*3 {
		t.Fatalf("%d clean records, want the line and 3 markers twice", len(clean))
	}
	for i, e := range clean[1:] {
		o, key := origins[i/3], event.ControlKeys(3)[i%3]
		if e.key != key || !bytes.Equal(e.value, marker) || e.origin != o.String() {
			t.Errorf("clean marker %d: %s=%s origin %s; want %s=%s origin %s", i, e.key, e.value, e.origin, key, marker, o)
		}
	}
	if n := len(drain(t, h.sales)); n != 1 {
		t.Errorf("%d sales records, want the line only", n)
	}
	if keys := h.tt.GetTableKeys(h.table); fmt.Sprint(keys) != "[o000123-1]" {
		t.Errorf("claims %v, want the line's only", keys)
	}
	dead := drain(t, h.dead)
	if len(dead) != 1 || dead[0].origin != badOrigin.String() {
		t.Errorf("dead letters %+v, want one for the bad marker at %s", dead, badOrigin)
	}
	want := map[outcome.Outcome]int64{outcome.Accepted: 1, outcome.Rejected(event.ReasonUndecodable): 1}
	if got := h.counts.Of(Processor); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observer counts %v, want %v (a marker is no outcome)", got, want)
	}
}
