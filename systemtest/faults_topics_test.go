//go:build faults

package systemtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// undecodable is what case 8 writes into every input topic: no codec of the topology reads it.
var undecodable = []byte("\xff\xfe\x00{\"not\": json")

// TestFaultUndecodableInputs (issue 11 case 8): after a replay has been processed, bytes that no
// codec reads are written straight into every input topic of `shopease run` (the raw topics and
// the clean topics downstream processors read). Each becomes exactly one dead letter (reason
// undecodable, source topic/partition/offset of the injected record), the group never restarts a
// processor, every group's lag returns to 0, and the tables and outputs equal an undisturbed run's.
// The processors' own tests (e.g. processors/sales TestUndecodableBecomesDeadLetter,
// processors/activity decode_test.go) cover each decoder; this proves it through the binary.
func TestFaultUndecodableInputs(t *testing.T) {
	defer timed(t, "case 8")()
	k := testenv.RealKafka(t)
	hist := generated(t, generate.Tiny())
	ref := calm(t, k.Brokers(), hist)
	ns := faultNS(t, "c8ud")
	g := startRun(t, k.Brokers(), ns)
	res := shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), "", hist.Dir)...)
	if res.code != 0 {
		t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
	}
	quiesce(t, g, 3*time.Minute)
	// The replay's own rejections are there already; the topic has several partitions, so what
	// came before is told apart by source, not by position.
	before := map[string]int{}
	for _, d := range deadLetters(t, k.Brokers(), ns) {
		before[d.Source]++
	}

	// One record per input topic, after the replay: the offsets of the replayed records stay those
	// of the undisturbed run, so the fences compare equal. The raw topics first (read by the
	// gateways only), then the clean topics (read by the downstream processors and the lake writer).
	raw, clean := inputTopics(ns)
	mark := len(g.allLogs()) // restarts before the injection (start-up) are not this case's
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := map[string]bool{} // "topic/partition/offset" of every injected record
	for _, phase := range []struct {
		name   string
		topics []string
	}{{"raw", raw}, {"clean", clean}} {
		for _, topic := range phase.topics {
			r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "fault8-%02d", len(want)), Value: undecodable}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatalf("produce into %s: %v", topic, err)
			}
			want[fmt.Sprintf("%s/%d/%d", topic, r.Partition, r.Offset)] = true
		}
		quiesce(t, g, 2*time.Minute) // fails when `shopease run` exits
		t.Logf("case 8: undecodable records in the %d %s input topics processed; shopease run still running", len(phase.topics), phase.name)
	}
	topics := finishRun(t, g, 2*time.Minute)

	got := map[string]int{}
	for _, d := range deadLetters(t, k.Brokers(), ns) {
		if before[d.Source] > 0 {
			before[d.Source]--
			continue
		}
		if event.Reason(d.Reason) != event.ReasonUndecodable {
			t.Errorf("dead letter from %s for %s: reason %s, want undecodable", d.Processor, d.Source, d.Reason)
		}
		got[d.Source]++
	}
	for src := range want {
		if got[src] != 1 {
			t.Errorf("injected record %s: %d dead letters, want 1", src, got[src])
		}
	}
	for src, n := range got {
		if !want[src] {
			t.Errorf("dead letter for %s (%d): not an injected record", src, n)
		}
	}
	if logs := g.allLogs()[mark:]; strings.Contains(logs, "processor failed; restarting") {
		t.Errorf("a processor failed on undecodable input and was restarted:\n%s", grepLines(logs, "processor failed"))
	}
	// The injected records are not the processors' output; everything else must equal the calm run.
	for name, recs := range topics {
		topics[name] = slices.DeleteFunc(recs, func(r record) bool { return strings.HasPrefix(r.key, "fault8-") })
	}
	compareRuns(t, ref.ns, ref.topics, ns, topics)
	t.Logf("case 8: %d input topics, %d dead letters with topic/partition/offset, lag 0, no restart", len(want), len(got))
}

// inputTopics returns the input topics of `shopease run` in ns (goka's loop topics aside): the raw
// ones and the clean ones, each sorted.
func inputTopics(ns topology.Namespace) (raw, clean []string) {
	rawNames := map[string]bool{}
	for _, r := range topology.RawTopics {
		rawNames[string(ns.Stream(r.Name))] = true
	}
	for _, ins := range processors.Inputs(ns) {
		for _, in := range ins {
			name := string(in)
			switch {
			case strings.HasSuffix(name, "-loop") || slices.Contains(raw, name) || slices.Contains(clean, name):
			case rawNames[name]:
				raw = append(raw, name)
			default:
				clean = append(clean, name)
			}
		}
	}
	slices.Sort(raw)
	slices.Sort(clean)
	return raw, clean
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// incompressible returns n random hex digits: replay compresses batches (lz4), and the broker's
// limit applies to the compressed batch, so a repeated letter would pass any limit.
func incompressible(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestFaultRecordAboveBrokerLimit (issue 11 case 9): the raw transactions topic takes records of
// at most 16 KiB (max.message.bytes, the broker's per-topic limit); a file with a 100 KB row among
// good rows is replayed by the binary. The broker refuses that one record: replay says so (a
// clear error naming the limit), quarantines the row (dead letter and rejects file with
// file:line), sends every other row and reports read = sent + rejected.
func TestFaultRecordAboveBrokerLimit(t *testing.T) {
	defer timed(t, "case 9")()
	k := testenv.RealKafka(t)
	ns := faultNS(t, "c9bg")
	g := startRun(t, k.Brokers(), ns)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	limit := "16384"
	altered, err := kadm.NewClient(cl).AlterTopicConfigs(context.Background(),
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &limit}}, string(ns.Stream(topology.Transactions)))
	if err == nil {
		_, err = altered.On(string(ns.Stream(topology.Transactions)), nil)
	}
	if err != nil {
		t.Fatalf("set max.message.bytes: %v", err)
	}
	// The broker answers before every part of it applies the new limit.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rc, err := kadm.NewClient(cl).DescribeTopicConfigs(context.Background(), string(ns.Stream(topology.Transactions)))
		if err == nil && len(rc) == 1 && slices.ContainsFunc(rc[0].Configs, func(c kadm.Config) bool {
			return c.Key == "max.message.bytes" && c.Value != nil && *c.Value == limit
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("max.message.bytes of the raw transactions topic not %s after 15 s (%v)", limit, err)
		}
	}
	dir := t.TempDir()
	lines := []string{c6TxHeader, c6Tx("c9tx01"), c6Tx("c9tx02"),
		fmt.Sprintf("c9big03,oc9big03,purchase,u-c9,P0001,%s,1,9.99,GBP,UK,%s", incompressible(100_000), c6Time),
		c6Tx("c9tx03")}
	file := filepath.Join(dir, "transactions", "big.csv")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rejects := filepath.Join(t.TempDir(), "rejects.ndjson")
	res := shopease(t, 2*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), rejects, dir)...)
	tot := totals(t, res)
	t.Logf("replay exit %d; stderr:\n%s", res.code, res.stderr)
	if tot.sent != 3 || tot.rejected != 1 || tot.read != 4 || tot.lost != 0 {
		t.Errorf("replay totals read %d sent %d rejected %d lost %d; want 4 read, 3 sent, 1 rejected, 0 lost\n%s",
			tot.read, tot.sent, tot.rejected, tot.lost, res.stdout)
	}
	rej := readRejects(t, rejects)
	if len(rej) != 1 || rej[0].Line != 4 || rej[0].File != file || rej[0].Reason != event.ReasonTooLarge {
		t.Errorf("rejects file: %+v; want one line: %s:4 too_large", rej, file)
	}
	topics := finishRun(t, g, 2*time.Minute)
	var sent []string
	for r := range distinct(topics[string(ns.Stream(topology.CleanTransactions))]) {
		for _, id := range []string{"c9tx01", "c9tx02", "c9tx03", "c9big03"} {
			if strings.Contains(r.value, `"`+id+`"`) {
				sent = append(sent, id)
			}
		}
	}
	slices.Sort(sent)
	if want := []string{"c9tx01", "c9tx02", "c9tx03"}; !slices.Equal(sent, want) {
		t.Errorf("clean transactions hold %v, want %v", sent, want)
	}
	var dead []string
	for _, d := range deadLetters(t, k.Brokers(), ns) {
		dead = append(dead, fmt.Sprintf("%s %s %s", d.Processor, d.Source, d.Reason))
	}
	if want := []string{"replay big.csv:4 too_large"}; !slices.Equal(dead, want) {
		t.Errorf("dead letters %v, want %v", dead, want)
	}
}
