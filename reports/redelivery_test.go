package reports_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/testenv"
)

// TestReportsExactUnderRedelivery is a crash's worst case made deterministic, on both Kafkas:
// after a first run, the committed input offsets of the transactions gateway, the sales and the
// revenue processors are all reset to 0 while their tables keep everything. The gateway emits
// every line again, the sales processor reads each line twice more and forwards every copy, and
// the revenue processor reads three copies of each: every one of them must be fenced, and the
// reports must still equal the truth.
func TestReportsExactUnderRedelivery(t *testing.T) {
	dir := t.TempDir()
	gcfg := generate.Tiny()
	gcfg.Dir = dir
	truth, err := generate.Run(context.Background(), gcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := truth.Datasets[generate.DatasetTransactions].Accepted
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		cfg := replayed(t, k, "", dir, generate.DatasetTransactions, generate.DatasetInventory)
		stop, failed := startProcessors(t, cfg)
		checkRevenue(t, waitLoaded(t, cfg, truth, failed), truth)
		stop()

		ns := cfg.Namespace
		resetOffsets(t, cfg, ns.Group(transactions.Group), ns.Stream(topology.Transactions))
		resetOffsets(t, cfg, ns.Group(sales.Group), ns.Stream(topology.Sales))
		resetOffsets(t, cfg, ns.Group(sales.RevenueGroup), ns.Stream(topology.SalesOrders))
		second := &outcome.Counts{}
		cfg.Observer = second
		stop, failed = startProcessors(t, cfg)
		defer stop()
		want := map[string]map[outcome.Outcome]int64{
			sales.Processor:        {outcome.Duplicate: 2 * lines},
			sales.RevenueProcessor: {outcome.Duplicate: 3 * lines},
		}
		for deadline := time.Now().Add(2 * time.Minute); ; {
			got := map[string]map[outcome.Outcome]int64{sales.Processor: second.Of(sales.Processor),
				sales.RevenueProcessor: second.Of(sales.RevenueProcessor)}
			if reflect.DeepEqual(got, want) {
				break
			}
			if err := failed(); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("redelivered run observed %v, want %v", got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		d := waitLoaded(t, cfg, truth, failed)
		checkRevenue(t, d, truth)
		checkTop(t, d, truth)
		checkProductMonths(t, d, truth)
	})
}

// resetOffsets commits offset 0 for every partition of topic in the (stopped) group, as if it had
// crashed before committing anything.
func resetOffsets(t *testing.T, cfg cluster.Config, group goka.Group, topic goka.Stream) {
	t.Helper()
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	om, err := sarama.NewOffsetManagerFromClient(string(group), client)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := client.Partitions(string(topic))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		pom, err := om.ManagePartition(string(topic), p)
		if err != nil {
			t.Fatal(err)
		}
		if next, _ := pom.NextOffset(); next <= 0 {
			t.Errorf("%s %s/%d: committed offset %d before the reset; want the first run's", group, topic, p, next)
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
