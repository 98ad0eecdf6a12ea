package systemtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
)

// record is one Kafka record as read back.
type record struct {
	key, value string
	origin     string // the fence.Header, when set
}

// dumpTopics reads every topic of namespace ns except the raw ones, from the start to the end
// offsets at the time of the call.
func dumpTopics(t *testing.T, brokers []string, ns topology.Namespace) map[string][]record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := waitCtx(t, 2*time.Minute)
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]bool{}
	for _, r := range topology.RawTopics {
		raw[string(ns.Stream(r.Name))] = true
	}
	out := map[string][]record{}
	for _, name := range topics.Names() {
		if !strings.HasPrefix(name, string(ns)) || raw[name] {
			continue
		}
		out[name] = readTopic(ctx, t, cl, adm, name)
	}
	return out
}

func readTopic(ctx context.Context, t *testing.T, cl *kgo.Client, adm *kadm.Client, topic string) []record {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			total += o.Offset
		}
	})
	if total == 0 {
		return nil
	}
	parts := map[int32]kgo.Offset{}
	for p := range want {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: keys(want)})
	var recs []record
	done := map[int32]bool{}
	for len(done) < len(want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (got %d records)", topic, ctx.Err(), len(recs))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic != topic || done[r.Partition] {
				return
			}
			rec := record{key: string(r.Key), value: string(r.Value)}
			for _, h := range r.Headers {
				if h.Key == fence.Header {
					rec.origin = string(h.Value)
				}
			}
			recs = append(recs, rec)
			if r.Offset+1 >= want[r.Partition] {
				done[r.Partition] = true
			}
		})
	}
	return recs
}

func keys(m map[int32]int64) []int32 {
	var ks []int32
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// tableState is a changelog's last value per key (a nil value deletes the key).
func tableState(recs []record) map[string]string {
	st := map[string]string{}
	for _, r := range recs {
		if r.value == "" {
			delete(st, r.key)
			continue
		}
		st[r.key] = r.value
	}
	return st
}

// distinct is the set of records of an output stream: at-least-once delivery may repeat a record
// after a crash, but a repeat carries the same key, value and origin.
func distinct(recs []record) map[record]bool {
	s := map[record]bool{}
	for _, r := range recs {
		s[r] = true
	}
	return s
}

// quiesce waits until every group has committed every record of its inputs, twice in a row
// (downstream groups start on what upstream emits), failing after d.
func quiesce(t *testing.T, g *group, d time.Duration) {
	t.Helper()
	cfg := cluster.Config{Brokers: g.brokers}
	deadline := time.Now().Add(d)
	stable := 0
	var last string
	for time.Now().Before(deadline) {
		g.running()
		last = ""
		for grp, ins := range processors.Inputs(g.ns) {
			lag, err := cfg.Lag(grp, ins...)
			if err != nil || lag != 0 {
				last += fmt.Sprintf(" %s: lag %d %v;", grp, lag, err)
			}
		}
		if last == "" {
			if stable++; stable == 2 {
				return
			}
		} else {
			stable = 0
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the group never caught up within %s:%s", d, last)
}

// sortedKeys returns the keys of m in order, for stable failure messages.
func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
