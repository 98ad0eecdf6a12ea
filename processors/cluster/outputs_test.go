package cluster_test

import (
	"sync"
	"testing"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestEnsureOutputsRace: processors that share an output create it at the same moment as they
// start; every one of them succeeds (the losers' "already exists" is no error) and the topics
// have the input's partition count.
func TestEnsureOutputsRace(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(t)}
		if _, err := cfg.EnsureTopics(3); err != nil {
			t.Fatal(err)
		}
		in := cfg.Namespace.Stream(topology.Activity)
		out := cfg.Namespace.Stream(topology.CleanActivity)
		table := cfg.Namespace.Table(topology.ActivityGroup)
		const racers = 6
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = cfg.EnsureOutputs(in, []goka.Stream{out}, []goka.Table{table})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
		}
		tm, err := cfg.TopicManager()
		if err != nil {
			t.Fatal(err)
		}
		defer tm.Close()
		for _, name := range []string{string(out), string(table)} {
			if ps, err := tm.Partitions(name); err != nil || len(ps) != 3 {
				t.Errorf("%s: partitions %v, %v; want 3", name, ps, err)
			}
		}
	})
}
