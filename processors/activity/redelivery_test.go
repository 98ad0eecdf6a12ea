package activity_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/activity"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/testenv"
)

// TestRedeliveryOnKafka makes the gateway read its whole input a second time, as after a crash
// before any offset commit (its consumer group is deleted between two runs): every clean record
// is emitted again with the same key, the same bytes and the same origin, so a downstream fence
// drops each copy.
func TestRedeliveryOnKafka(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Pseudonyms: pseudonym.Demo(), Observer: obs,
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		if err := activity.EnsureOutputs(cfg); err != nil {
			t.Fatal(err)
		}
		recs, _ := knownRecords()
		emit(t, cfg, recs)
		var accepted int
		for _, r := range recs {
			if r.want == "" {
				accepted++
			}
		}

		stop := start(t, cfg)
		waitObserved(t, obs, len(recs))
		stop()
		deleteGroup(t, cfg, string(cfg.Namespace.Group(activity.Group)))
		stop = start(t, cfg)
		waitObserved(t, obs, 2*len(recs))
		stop()

		byOrigin := map[string][]*kgo.Record{}
		for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanActivity))) {
			o := header(r, fence.Header)
			byOrigin[o] = append(byOrigin[o], r)
		}
		if len(byOrigin) != accepted {
			t.Errorf("%d distinct origins on the clean topic, want %d", len(byOrigin), accepted)
		}
		for o, rs := range byOrigin {
			if len(rs) != 2 || !bytes.Equal(rs[0].Key, rs[1].Key) || !bytes.Equal(rs[0].Value, rs[1].Value) || rs[0].Partition != rs[1].Partition {
				t.Errorf("origin %s: %d records, want 2 identical ones", o, len(rs))
			}
		}
	})
}

// deleteGroup deletes a stopped consumer group, so that its next member starts from the oldest
// offsets again.
func deleteGroup(t *testing.T, cfg cluster.Config, group string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The group may take a moment to become empty after its last member left.
	for {
		resp, err := kadm.NewClient(cl).DeleteGroup(ctx, group)
		if err == nil && resp.Err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("delete group %s: %v / %v", group, err, resp.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
