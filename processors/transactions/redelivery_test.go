package transactions_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestRedeliveryOnBothKafkas is a crash's worst case made deterministic: after a run, the group's
// committed input offsets are reset to 0 while the claim table (Pebble files and changelog) keeps
// everything, so every record is delivered again. Each accepted line must be emitted again with the
// same key, bytes and origin (so downstream fences drop the copy), each duplicate must stay a
// duplicate, and the outcomes must equal the first run's.
func TestRedeliveryOnBothKafkas(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		first := &outcome.Counts{}
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Storage:    func(dir string) storage.Builder { return tables.NewBuilder(dir) },
			Pseudonyms: pseudonym.Demo(), Observer: first,
		}
		if _, err := cfg.EnsureTopics(2); err != nil {
			t.Fatal(err)
		}
		recs := redeliverySet(t)
		stop := startGateway(t, cfg)
		emitRaw(t, cfg, recs)
		want := map[outcome.Outcome]int64{outcome.Accepted: 40, outcome.Duplicate: 8, outcome.Rejected(event.ReasonBadPrice): 3}
		if got := waitObserved(t, first, int64(len(recs))); !reflect.DeepEqual(got, want) {
			t.Fatalf("first run observed %v, want %v", got, want)
		}
		stop()
		clean := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.CleanTransactions)), 40)

		resetOffsets(t, cfg)
		second := &outcome.Counts{}
		cfg.Observer = second
		stop = startGateway(t, cfg)
		if got := waitObserved(t, second, int64(len(recs))); !reflect.DeepEqual(got, want) {
			t.Errorf("redelivered run observed %v, want %v", got, want)
		}
		stop()
		again := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.CleanTransactions)), 80)
		sales := readTopic(t, cfg, string(cfg.Namespace.Stream(topology.Sales)), 80)
		if len(again) != 80 || len(sales) != 80 {
			t.Fatalf("after redelivery %d clean and %d sales records, want 80 each", len(again), len(sales))
		}
		firstByOrigin := map[string][]byte{}
		for _, m := range clean {
			firstByOrigin[origin(t, m)] = append(append([]byte{}, m.Key...), m.Value...)
		}
		copies := map[string]int{}
		for _, m := range again {
			o := origin(t, m)
			if want, ok := firstByOrigin[o]; !ok || !bytes.Equal(want, append(append([]byte{}, m.Key...), m.Value...)) {
				t.Errorf("clean record of origin %s differs from the first run's (known origin: %v)", o, ok)
			}
			copies[o]++
		}
		for o, n := range copies {
			if n != 2 {
				t.Errorf("origin %s emitted %d times, want 2 (original and redelivery)", o, n)
			}
		}
	})
}

// redeliverySet is 40 valid lines, 8 producer retries of them and 3 lines with price 0.
func redeliverySet(t *testing.T) []rawRecord {
	t.Helper()
	var recs []rawRecord
	add := func(i int, price event.Money) rawRecord {
		l := event.TransactionLine{
			LineID: fmt.Sprintf("r%03d-1", i), OrderID: fmt.Sprintf("r%03d", i), Type: event.Purchase,
			UserID: canary(i % 100), ProductID: fmt.Sprintf("P%02d", i%7), Quantity: 1, UnitPrice: price,
			Time: time.Date(2024, 3, 1, 12, i, 0, 0, time.UTC),
		}
		b, err := codecs.AppendTransactionLine(nil, &l)
		if err != nil {
			t.Fatal(err)
		}
		r := rawRecord{key: l.LineID, value: b}
		recs = append(recs, r)
		return r
	}
	var valid []rawRecord
	for i := 0; i < 40; i++ {
		valid = append(valid, add(i, event.MustMoney("2.50")))
	}
	for i := 40; i < 43; i++ {
		add(i, 0)
	}
	for i := 0; i < 40; i += 5 {
		recs = append(recs, valid[i])
	}
	return recs
}

// resetOffsets commits offset 0 for every input partition of the (stopped) gateway's group, as if
// it had crashed before committing anything.
func resetOffsets(t *testing.T, cfg cluster.Config) {
	t.Helper()
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	group := string(cfg.Namespace.Group(transactions.Group))
	topic := string(cfg.Namespace.Stream(topology.Transactions))
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			t.Fatal(err)
		}
		if next, _ := pom.NextOffset(); next <= 0 {
			t.Errorf("partition %d: committed offset %d before the reset; want the first run's", p, next)
		}
		pom.ResetOffset(0, "")
		if err := pom.Close(); err != nil {
			t.Fatal(err)
		}
	}
	om.Commit()
	if err := om.Close(); err != nil {
		t.Fatal(err)
	}
}
