package journeys_test

import (
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/journeys"
	"github.com/shopease/shopease/tables/inspect"
)

// TestInspectPrintsUsersReadably: `shopease inspect` decodes table values with UserCodec and prints
// them as JSON, whether the table holds the binary form or JSON written before it.
func TestInspectPrintsUsersReadably(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	u := &journeys.User{
		Fence:        fence.Vector{{Source: "a/0", Offset: 5}},
		Events:       []journeys.Event{{At: at, ID: "a1", Type: event.ProductView, ProductID: "P1", SessionID: "s1"}},
		ActivityMark: at,
	}
	bin, err := journeys.UserCodec{}.Encode(u)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"table":"shopease-journeys-table","partition":2,"key":"u1","value":{"fence":[{"s":"a/0","o":5}],` +
		`"events":[{"at":"2024-03-01T10:00:00Z","id":"a1","type":"product_view","product_id":"P1","session_id":"s1"}],` +
		`"activity_mark":"2024-03-01T10:00:00Z"}}`
	for name, value := range map[string][]byte{
		"binary": bin,
		"json": []byte(`{"fence":[{"s":"a/0","o":5}],"events":[{"at":"2024-03-01T10:00:00Z","id":"a1","type":"product_view",` +
			`"product_id":"P1","session_id":"s1"}],"activity_mark":"2024-03-01T10:00:00Z"}`),
	} {
		got, err := inspect.JSON(journeys.UserCodec{}, inspect.Record{Table: "shopease-journeys-table", Partition: 2, Key: "u1", Value: value})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
