package transactions

import (
	"reflect"
	"testing"

	"github.com/shopease/shopease/event"
)

// TestRuleOrder pins the rules and their order to the list in event/reasons.go: the first failing
// rule decides, so reordering changes reported reasons.
func TestRuleOrder(t *testing.T) {
	var got []event.Reason
	for _, r := range Rules {
		got = append(got, r.Reason)
	}
	want := []event.Reason{event.ReasonMissingOrder, event.ReasonMissingUser, event.ReasonMissingProduct,
		event.ReasonBadType, event.ReasonBadTime, event.ReasonBadQuantity, event.ReasonBadPrice}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

// TestDecodeKeepsUnknownType: an unknown type decodes with its text, and the rest of the record is
// still decoded strictly.
func TestDecodeKeepsUnknownType(t *testing.T) {
	want := goodLine()
	l, err := Decode(withType(t, want, `purch\u0061se!`))
	if err != nil {
		t.Fatal(err)
	}
	want.Type = "purchase!"
	if !reflect.DeepEqual(*l, want) {
		t.Errorf("decoded %+v, want %+v", *l, want)
	}
	for _, raw := range []string{
		`{"line_id":"a","order_id":"b","type":"swap","time":"2024-01-01T00:00:00Z","extra":1}`, // unknown field
		`{"line_id":"a","order_id":"b","type":"swap","type":"purchase","time":"2024-01-01T00:00:00Z"}`,
		`{"line_id":"a","order_id":"b","type":"swap`, // unterminated
		`{"line_id":"a","order_id":"b","type":7,"time":"2024-01-01T00:00:00Z"}`,
	} {
		if l, err := Decode([]byte(raw)); err == nil {
			t.Errorf("Decode(%s) = %+v, want error", raw, *l)
		}
	}
}
