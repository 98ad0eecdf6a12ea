package inventory_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// checkRedelivery writes every record of the clean topic a second time, to the same partition with
// the same origin stamp — what a cleaning group that crashed before committing re-emits — and
// checks that the product group skips all of them: once it has consumed them the table and the
// outcomes are as before.
func checkRedelivery(t *testing.T, cfg cluster.Config, obs *outcome.Counts, skus []string, before map[string]*product.Product) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	topic := string(cfg.Namespace.Stream(topology.CleanInventory))
	recs := readAll(ctx, t, cfg.Brokers, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	outcomesBefore := obs.Of(inventory.ProductsProcessor)
	again := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		again[i] = &kgo.Record{Topic: topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers}
	}
	if err := cl.ProduceSync(ctx, again...).FirstErr(); err != nil {
		t.Fatalf("re-emit %d clean records: %v", len(again), err)
	}
	waitConsumed(ctx, t, kadm.NewClient(cl), string(cfg.Namespace.Group(inventory.Group)), topic)
	after := readProducts(t, cfg, skus)
	if !reflect.DeepEqual(after, before) {
		for sku, p := range after {
			if !reflect.DeepEqual(p, before[sku]) {
				t.Errorf("%s changed by redelivered records:\n before %+v\n after  %+v", sku, before[sku], p)
			}
		}
	}
	if got := obs.Of(inventory.ProductsProcessor); !reflect.DeepEqual(got, outcomesBefore) {
		t.Errorf("redelivered records were judged: outcomes %v, before %v", got, outcomesBefore)
	}
	t.Logf("%d redelivered clean records skipped", len(recs))
}

// readAll returns every record of topic up to its end offsets at the time of the call.
func readAll(ctx context.Context, t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	var recs []*kgo.Record
	for int64(len(recs)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records: %v", topic, len(recs), want, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

// waitConsumed waits until group has committed every partition of topic up to its end.
func waitConsumed(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string) {
	t.Helper()
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		behind := 0
		ends.Each(func(o kadm.ListedOffset) {
			if c, ok := committed.Lookup(o.Topic, o.Partition); !ok || c.At < o.Offset {
				behind++
			}
		})
		if behind == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s still behind on %d partitions of %s", group, behind, topic)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
