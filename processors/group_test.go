package processors

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/shopease/shopease/processors/topology"
)

// TestParseNames: names come back in topology order, each once; "all", "gateways" and "" expand;
// an unknown name is an error that lists the known ones.
func TestParseNames(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "[transactions activity inventory feedback sales journeys realtime]",
		"all":                    "[transactions activity inventory feedback sales journeys realtime]",
		"gateways":               "[transactions activity inventory feedback]",
		"realtime, transactions": "[transactions realtime]",
		"sales,gateways,sales":   "[transactions activity inventory feedback sales]",
	} {
		got, err := ParseNames(in)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("ParseNames(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	_, err := ParseNames("sales,journey")
	if err == nil || err.Error() != `processors: unknown processor "journey" (known: transactions, activity, inventory, feedback, sales, journeys, realtime, or all, gateways)` {
		t.Errorf("unknown name: %v", err)
	}
}

// TestInputsOf: every consumer group of the topology belongs to exactly one processor, so the
// inputs of all processors are Inputs and a subset's are its groups' only.
func TestInputsOf(t *testing.T) {
	ns := topology.Namespace("t.")
	all := Inputs(ns)
	seen := map[string]int{}
	for _, r := range selected(nil) {
		for _, g := range r.groups {
			seen[string(ns.Group(g))]++
		}
	}
	for g := range all {
		if seen[string(g)] != 1 {
			t.Errorf("group %s run by %d processors", g, seen[string(g)])
		}
	}
	if got := InputsOf(ns, nil); fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("InputsOf(all) = %v, want %v", got, all)
	}
	got := slices.Sorted(maps.Keys(InputsOf(ns, Gateways)))
	if fmt.Sprint(got) != "[t.shopease-activity t.shopease-feedback t.shopease-inventory t.shopease-inventory-clean t.shopease-ratings t.shopease-transactions]" {
		t.Errorf("gateways' groups %v", got)
	}
}
