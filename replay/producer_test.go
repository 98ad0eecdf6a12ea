package replay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

func TestSendEvent(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		p, err := NewProducer(k.Brokers(), WithClientID("simulate-test"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		events := []any{
			event.Activity{EventID: "a1", UserID: "u1", Type: event.PageView, Time: at},
			&event.Activity{EventID: "a2", UserID: "u2", Type: event.AddToCart, ProductID: "P1", Time: at},
			&event.TransactionLine{LineID: "o1-1", OrderID: "o1", Type: event.Purchase, UserID: "u1", ProductID: "P1", Quantity: 1, UnitPrice: event.MustMoney("2.50"), Time: at},
			event.Review{ReviewID: "r1", UserID: "u1", ProductID: "P1", Rating: 4, Time: at},
		}
		for _, ev := range events {
			if err := p.SendEvent(ctx, ns, ev, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		inv := &event.InventoryUpdate{EventID: "i1", Type: event.Restock, SKU: "P1", Quantity: "5", Time: at}
		if err := p.SendEvent(ctx, ns, inv, now); err != nil {
			t.Fatal(err)
		}
		if err := p.SendEvent(ctx, ns, "not an event", now); !errors.Is(err, ErrEventType) {
			t.Errorf("string: err %v, want ErrEventType", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Sent != 5 || st.Acked != 5 || st.Failed != 0 {
			t.Errorf("stats %+v, want 5 sent and acknowledged", st)
		}
		want := map[string][]string{ // topic → keys
			string(ns.Stream(topology.Activity)):     {"u1", "u2"},
			string(ns.Stream(topology.Transactions)): {"o1-1"},
			string(ns.Stream(topology.Feedback)):     {"r1"},
			string(ns.Stream(topology.Inventory)):    {"P1"},
		}
		for topic, keys := range want {
			recs := readTopic(t, k.Brokers(), topic)
			if len(recs) != len(keys) {
				t.Fatalf("%s: %d records, want %d", topic, len(recs), len(keys))
			}
			got := map[string]bool{}
			for _, r := range recs {
				got[r.key] = true
				wantTime := at
				if topic == string(ns.Stream(topology.Inventory)) {
					wantTime = now
				}
				if !r.time.Equal(wantTime) {
					t.Errorf("%s key %s: timestamp %v, want %v", topic, r.key, r.time, wantTime)
				}
			}
			for _, k := range keys {
				if !got[k] {
					t.Errorf("%s: no record with key %q", topic, k)
				}
			}
		}
		tx := readTopic(t, k.Brokers(), string(ns.Stream(topology.Transactions)))
		l, err := codecs.DecodeTransactionLine(tx[0].value)
		if err != nil || l.UnitPrice != event.MustMoney("2.50") {
			t.Errorf("transaction %+v, %v", l, err)
		}
	})
}
