//go:build faults

package systemtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// corruptFile is one input file of case 6: its content, the ids of its good rows and the lines of
// its bad rows with the reason replay must give.
type corruptFile struct {
	rel  string // under the history dir; the folder names the dataset
	body string
	good []string
	bad  map[int]event.Reason // line → reason
}

const (
	c6TxHeader = "line_id,order_id,type,user_id,product_id,description,quantity,unit_price,currency,country,time"
	c6Time     = "2024-03-01T10:00:00Z"
)

func c6Tx(id string) string {
	return fmt.Sprintf("%s,o%s,purchase,u-c6,P0001,Mug,1,9.99,GBP,UK,%s", id, id, c6Time)
}

func c6Activity(id string) string {
	return fmt.Sprintf(`{"event_id":%q,"user_id":"u-c6","session_id":"s-c6","type":"product_view","product_id":"P0001","time":%q}`, id, c6Time)
}

func c6Review(id string) string {
	return fmt.Sprintf(`{"review_id":%q,"user_id":"u-c6","product_id":"P0001","rating":4,"title":"ok","time":%q}`, id, c6Time)
}

// corruptFiles are the files of case 6: every kind of damage the issue names, each beside good rows.
func corruptFiles() []corruptFile {
	huge := strings.Repeat("x", 10<<20) // a 10 MB field: above replay's 1 MB row limit
	return []corruptFile{
		{rel: "transactions/damaged.csv", body: strings.Join([]string{
			c6TxHeader,
			c6Tx("c6tx01"),
			"c6bad03,oc6bad03,purchase,u-c6,P0001,Mug,1,9.99,GBP,UK", // 10 fields of 11
			c6Tx("c6tx02"),
			`c6bad05,oc6bad05,purchase,u-c6,P0001,"Mug "big" one",1,9.99,GBP,UK,` + c6Time, // a bare quote in a quoted field
			"c6bad06,oc6bad06,purchase,u-c6,P0001,Mug \xff\xfe,1,9.99,GBP,UK," + c6Time,    // invalid UTF-8
			c6Tx("c6tx03"),
			"c6bad08,oc6bad08,purchase,u-c6,P0001," + huge + ",1,9.99,GBP,UK," + c6Time,
			c6Tx("c6tx04"),
			"\x00\x01garbage", // trailing garbage, no final newline
		}, "\n"),
			good: []string{"c6tx01", "c6tx02", "c6tx03", "c6tx04"},
			bad:  map[int]event.Reason{3: event.ReasonMalformed, 5: event.ReasonMalformed, 6: event.ReasonBadEncoding, 8: event.ReasonTooLarge, 10: event.ReasonMalformed}},
		{rel: "transactions/bom-crlf.csv", body: "\uFEFF" + strings.Join([]string{c6TxHeader, c6Tx("c6tx11"), c6Tx("c6tx12"), c6Tx("c6tx13")}, "\r\n") + "\r\n",
			good: []string{"c6tx11", "c6tx12", "c6tx13"}},
		{rel: "activity/damaged.ndjson", body: strings.Join([]string{
			c6Activity("c6ac01"),
			`{"event_id":"c6bad2","user_id":"u-c`, // truncated JSON
			c6Activity("c6ac02"),
			"{\"event_id\":\"c6bad4\",\"user_id\":\"u-\xc3\x28\",\"type\":\"product_view\",\"time\":\"" + c6Time + "\"}", // invalid UTF-8
			c6Activity("c6ac03"),
			"}}} trailing garbage",
		}, "\n"),
			good: []string{"c6ac01", "c6ac02", "c6ac03"},
			bad:  map[int]event.Reason{2: event.ReasonMalformed, 4: event.ReasonBadEncoding, 6: event.ReasonMalformed}},
		{rel: "activity/bom-crlf.ndjson", body: "\uFEFF" + c6Activity("c6ac11") + "\r\n" + c6Activity("c6ac12") + "\r\n",
			good: []string{"c6ac11", "c6ac12"}},
		{rel: "feedback/truncated.json", body: "[\n" + c6Review("c6fb01") + ",\n" + c6Review("c6fb02") + ",\n" + `{"review_id":"c6bad4","user_id":`,
			good: []string{"c6fb01", "c6fb02"},
			bad:  map[int]event.Reason{4: event.ReasonMalformed}},
		{rel: "feedback/trailing.json", body: "[\n" + c6Review("c6fb11") + "\n]\ngarbage after the array\n",
			good: []string{"c6fb11"},
			bad:  map[int]event.Reason{4: event.ReasonMalformed}},
	}
}

// TestFaultCorruptFiles (issue 11 case 6): files with every kind of damage replayed by the binary
// while `shopease run` processes them: every good row reaches its clean topic exactly once, every
// bad row is rejected with file:line and its reason (rejects file and dead-letter topic), no good
// row is rejected, and read = sent + rejected. Replay's own tests (replay/rows_test.go,
// replay/replay_test.go) cover each damage per reader; this proves the same through the binary.
func TestFaultCorruptFiles(t *testing.T) {
	defer timed(t, "case 6")()
	k := testenv.RealKafka(t)
	dir, files := t.TempDir(), corruptFiles()
	var good []string
	wantRejects := map[string]event.Reason{} // "file:line" → reason
	wantDead := map[string]event.Reason{}    // the same by base name: a dead letter names the file, not where it was read
	for _, f := range files {
		p := filepath.Join(dir, f.rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
		good = append(good, f.good...)
		for line, reason := range f.bad {
			wantRejects[fmt.Sprintf("%s:%d", p, line)] = reason
			wantDead[fmt.Sprintf("%s:%d", filepath.Base(p), line)] = reason
		}
	}
	ns := faultNS(t, "c6cf")
	g := startRun(t, k.Brokers(), ns)
	rejects := filepath.Join(t.TempDir(), "rejects.ndjson")
	res := shopease(t, 2*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "manifest.json"), rejects, dir)...)
	if res.code != 0 {
		t.Fatalf("replay of damaged files exited %d (rejected rows must not fail it)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	tot := totals(t, res)
	if tot.sent != int64(len(good)) || tot.rejected != int64(len(wantRejects)) || tot.read != tot.sent+tot.rejected || tot.lost != 0 {
		t.Errorf("replay totals read %d sent %d rejected %d lost %d; want sent %d, rejected %d, read = sent + rejected, lost 0\n%s",
			tot.read, tot.sent, tot.rejected, tot.lost, len(good), len(wantRejects), res.stdout)
	}

	gotRejects := map[string]event.Reason{}
	for _, l := range readRejects(t, rejects) {
		gotRejects[fmt.Sprintf("%s:%d", l.File, l.Line)] = l.Reason
	}
	diffReasons(t, "rejects file", gotRejects, wantRejects)

	topics := finishRun(t, g, 2*time.Minute)
	gotDead := map[string]event.Reason{}
	for _, d := range deadLetters(t, k.Brokers(), ns) {
		if d.Processor != "replay" {
			t.Errorf("dead letter from %s (%s at %s): a good row was rejected downstream", d.Processor, d.Reason, d.Source)
			continue
		}
		gotDead[d.Source] = event.Reason(d.Reason)
	}
	diffReasons(t, "dead-letter topic", gotDead, wantDead)

	// Every good row reaches its clean topic exactly once; no bad row does.
	clean := map[string]int{}
	for _, name := range []topology.Topic{{Name: topology.CleanTransactions}, {Name: topology.CleanActivity}, {Name: topology.CleanFeedback}} {
		for r := range distinct(topics[string(ns.Stream(name.Name))]) {
			for _, id := range good {
				if strings.Contains(r.value, `"`+id+`"`) {
					clean[id]++
				}
			}
			if strings.Contains(r.value, "c6bad") {
				t.Errorf("%s: a bad row got through: %.200s", name.Name, r.value)
			}
		}
	}
	for _, id := range good {
		if clean[id] != 1 {
			t.Errorf("good row %s: in the clean topics %d times, want 1", id, clean[id])
		}
	}
	t.Logf("case 6: %d rows read, %d good rows in the clean topics, %d rejected with file:line (%s)", tot.read, len(good), tot.rejected, tot.reasons)
}

// diffReasons reports every file:line whose reason differs between got and want.
func diffReasons(t *testing.T, where string, got, want map[string]event.Reason) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s rejected as %q, want %q", where, k, got[k], want[k])
		}
	}
}
