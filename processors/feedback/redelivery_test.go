package feedback_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/pseudonym"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

// TestRedeliveryOnKafka makes the gateway read its whole input a second time, as after a crash
// before any offset commit (its consumer group is deleted between two runs, its claim table is
// kept): every accepted review is emitted again, identical and with the same origin; duplicates
// stay duplicates; and the ratings processor, fenced by origin, counts every review once.
func TestRedeliveryOnKafka(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		obs := &outcome.Counts{}
		cfg := cluster.Config{
			Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(),
			Storage:    func(dir string) storage.Builder { return tables.NewBuilder(dir) },
			Pseudonyms: pseudonym.Demo(), Observer: obs,
		}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		if err := feedback.EnsureOutputs(cfg); err != nil {
			t.Fatal(err)
		}
		exp := newExpected()
		recs := round(1, exp)
		emit(t, cfg, recs)

		stopRatings := start(t, cfg, feedback.NewRatings)
		stopGateway := start(t, cfg, feedback.NewGateway)
		waitObserved(t, obs, feedback.GatewayProcessor, int64(len(recs)))
		waitObserved(t, obs, feedback.RatingsProcessor, int64(exp.clean))
		stopGateway()
		deleteGroup(t, cfg, string(cfg.Namespace.Group(feedback.GatewayGroup)))
		stopGateway = start(t, cfg, feedback.NewGateway)
		waitObserved(t, obs, feedback.GatewayProcessor, int64(2*len(recs)))
		waitObserved(t, obs, feedback.RatingsProcessor, int64(2*exp.clean))
		stopGateway()
		stopRatings()

		for o, n := range exp.obs {
			exp.obs[o] = 2 * n
		}
		if got := obs.Of(feedback.GatewayProcessor); fmt.Sprint(got) != fmt.Sprint(exp.obs) {
			t.Errorf("gateway outcomes %v, want %v", got, exp.obs)
		}
		wantRatings := map[outcome.Outcome]int64{outcome.Accepted: int64(exp.clean), outcome.Duplicate: int64(exp.clean)}
		if got := obs.Of(feedback.RatingsProcessor); fmt.Sprint(got) != fmt.Sprint(wantRatings) {
			t.Errorf("ratings outcomes %v, want %v", got, wantRatings)
		}
		byOrigin := map[string][]*kgo.Record{}
		for _, r := range testenv.ReadTopic(t, cfg.Brokers, string(cfg.Namespace.Stream(topology.CleanFeedback))) {
			o := header(r, fence.Header)
			byOrigin[o] = append(byOrigin[o], r)
		}
		if len(byOrigin) != exp.clean {
			t.Errorf("%d distinct origins on the clean topic, want %d", len(byOrigin), exp.clean)
		}
		for o, rs := range byOrigin {
			if len(rs) != 2 || !bytes.Equal(rs[0].Key, rs[1].Key) || !bytes.Equal(rs[0].Value, rs[1].Value) {
				t.Errorf("origin %s: %d records, want 2 identical ones", o, len(rs))
			}
		}
		checkTables(t, cfg, exp)
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
