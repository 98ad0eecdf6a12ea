package cluster_test

import (
	"errors"
	"testing"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestEnsureTopics: raw topics are created once with the asked partition count and infinite
// retention (history keeps its old timestamps), a second call keeps them, another count fails.
func TestEnsureTopics(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(t)}
		res, err := cfg.EnsureTopics(3)
		if err != nil || len(res) != len(topology.RawTopics) {
			t.Fatalf("EnsureTopics: %v, %v", res, err)
		}
		for _, r := range res {
			if !r.Created {
				t.Errorf("%s not created", r.Name)
			}
		}
		if res, err = cfg.EnsureTopics(3); err != nil || res[0].Created {
			t.Fatalf("second EnsureTopics: %v, %v", res, err)
		}
		if _, err := cfg.EnsureTopics(4); !errors.Is(err, cluster.ErrPartitionMismatch) {
			t.Fatalf("EnsureTopics with another count: %v", err)
		}
		infos, err := cfg.DescribeTopics()
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != len(topology.RawTopics) {
			t.Fatalf("described %d topics, want %d", len(infos), len(topology.RawTopics))
		}
		for _, in := range infos {
			if in.Partitions != 3 || in.Retention != "-1" || in.Cleanup != "delete" {
				t.Errorf("%s: %d partitions, retention %q, cleanup %q", in.Name, in.Partitions, in.Retention, in.Cleanup)
			}
		}
	})
}
