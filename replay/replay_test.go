package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// The rows of the testdata subset, counted independently (python csv over the gzipped files).
var subsetRows = map[string]int64{"2010-12-01.csv.gz": 3108, "2010-12-02.csv.gz": 2109, "2011-07-26.csv.gz": 1279}

const subsetTotal = 6496

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

func TestDryRunSubset(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Paths = []string{filepath.Join("testdata", "online-retail")}
	cfg.DryRun = true
	cfg.RejectsPath = ""
	s := run(t, cfg)
	if s.Total.Read != subsetTotal || s.Total.Sent != subsetTotal || s.Total.RejectedTotal() != 0 || s.Total.Files != 3 {
		t.Errorf("total %+v, want %d read and sent in 3 files", s.Total, subsetTotal)
	}
	for _, f := range s.Files {
		if f.Counts.Read != subsetRows[filepath.Base(f.Path)] || f.Mapping != ProfileOnlineRetail || f.Status != StatusDryRun {
			t.Errorf("%s: %+v", f.Path, f)
		}
	}
	if d := s.Datasets["transactions"]; d == nil || d.Read != subsetTotal {
		t.Errorf("datasets %+v", s.Datasets)
	}
}

// TestReplayOnlineRetail replays the subset and checks the topic, then replays it again, under
// a new name, and forced.
func TestReplayOnlineRetail(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		dir := t.TempDir()
		for name := range subsetRows {
			copyFile(t, filepath.Join("testdata", "online-retail", name), filepath.Join(dir, "by-day", name))
		}
		cfg := testConfig(t, k.Brokers(), ns, filepath.Join(dir, "by-day"))
		topic := string(ns.Stream(topology.Transactions))

		s := run(t, cfg)
		if s.Total.Read != subsetTotal || s.Total.Sent != subsetTotal || s.Total.RejectedTotal() != 0 || s.Total.Lost != 0 {
			t.Fatalf("first replay: %+v", s.Total)
		}
		recs := readTopic(t, k.Brokers(), topic)
		if len(recs) != subsetTotal {
			t.Fatalf("topic holds %d records, want %d", len(recs), subsetTotal)
		}
		if d, u := duplicates(recs); d != 0 || u != 0 {
			t.Fatalf("%d duplicates, %d records without headers", d, u)
		}
		keys := map[string]bool{}
		for _, r := range recs {
			l, err := codecs.DecodeTransactionLine(r.value)
			if err != nil {
				t.Fatal(err)
			}
			if r.key != l.LineID || !r.time.Equal(l.Time) {
				t.Fatalf("record %s/%d: key %q timestamp %v, value line %q time %v", topic, r.offset, r.key, r.time, l.LineID, l.Time)
			}
			keys[r.key] = true
		}
		if len(keys) != subsetTotal {
			t.Errorf("%d distinct line ids, want %d (identical lines are distinct lines)", len(keys), subsetTotal)
		}
		if n := len(readTopic(t, k.Brokers(), string(ns.Stream(topology.DeadLetter)))); n != 0 {
			t.Errorf("%d dead letters, want 0", n)
		}

		again := run(t, cfg)
		if again.Total.Read != 0 || again.Total.Sent != 0 || again.Total.Skipped != subsetTotal {
			t.Errorf("second replay: %+v, want all %d rows skipped", again.Total, subsetTotal)
		}
		renamed := filepath.Join(dir, "renamed", "copy-of-first-day.csv.gz")
		copyFile(t, filepath.Join("testdata", "online-retail", "2010-12-01.csv.gz"), renamed)
		cfg2 := cfg
		cfg2.Paths = []string{renamed}
		byName := run(t, cfg2)
		if byName.Total.Read != 0 || byName.Total.Skipped != 3108 || byName.Files[0].Status != StatusSkipped {
			t.Errorf("renamed copy: %+v", byName.Files)
		}
		if n := len(readTopic(t, k.Brokers(), topic)); n != subsetTotal {
			t.Errorf("after replaying again: %d records, want %d", n, subsetTotal)
		}

		cfg2.Force = true
		forced := run(t, cfg2)
		if forced.Total.Sent != 3108 || forced.Files[0].Status != StatusForced {
			t.Errorf("forced: %+v", forced.Files)
		}
		if n := len(readTopic(t, k.Brokers(), topic)); n != subsetTotal+3108 {
			t.Errorf("after force: %d records, want %d", n, subsetTotal+3108)
		}
	})
}

// dirtyFiles is a shopease history with one bad row of each kind; want lists the rejects.
func dirtyFiles(t *testing.T) (dir string, want []rejectLine) {
	dir = t.TempDir()
	tx := filepath.Join(dir, "transactions", "2024-03-01.csv")
	writeFile(t, tx, "\xEF\xBB\xBFline_id,order_id,type,user_id,product_id,description,quantity,unit_price,currency,country,time\r\n"+
		"o1-1,o1,purchase,u1,P1,Mug,2,4.95,GBP,UK,2024-03-01T10:15:00Z\r\n"+
		"o1-2,o1,purchase,u1,P1,Mug,2,4.95,GBP\r\n"+
		"o1-3,o1,purchase,u1,P1,\"Mug\"x,2,4.95,GBP,UK,2024-03-01T10:15:00Z\r\n"+
		"o1-4,o1,purchase,u1,P1,Mug\xff,2,4.95,GBP,UK,2024-03-01T10:15:00Z\r\n"+
		"o1-5,o1,purchase,u1,P1,Mug,lots,4.95,GBP,UK,2024-03-01T10:15:00Z\r\n"+
		"o1-6,o1,purchase,u1,P1,"+huge+",2,4.95,GBP,UK,2024-03-01T10:15:00Z\r\n"+
		"o2-1,o2,refund,,P2,Cup,1,1.50,GBP,UK,2024-03-01T11:00:00Z\r\n")
	act := filepath.Join(dir, "activity", "2024-03-01.json")
	writeFile(t, act, "[\n"+
		`{"event_id":"a1","user_id":"u1","type":"page_view","time":"2024-03-01T10:00:00Z"},`+"\n"+
		`{"event_id":"a2","user_id":"u1","type":"page_view","time":"2024-03-01T10:00:01Z"}`+"\n"+
		"] garbage\n")
	fb := filepath.Join(dir, "feedback", "2024-03-02.ndjson")
	writeFile(t, fb, `{"review_id":"r1","user_id":"u1","product_id":"P1","rating":5,"time":"2024-03-02T08:00:00Z"}`+"\n"+
		`{"review_id":"r2","user_id":"u1","product_id":"P1","rating":5,"time":"2024-03-02T08:00:00Z"`+"\n")
	want = []rejectLine{
		{File: act, Line: 4, Row: 3, Dataset: "activity", Reason: event.ReasonMalformed, Original: "garbage"},
		{File: fb, Line: 2, Row: 2, Dataset: "feedback", Reason: event.ReasonMalformed},
		{File: tx, Line: 3, Row: 2, Dataset: "transactions", Reason: event.ReasonMalformed, Original: "o1-2,o1,purchase,u1,P1,Mug,2,4.95,GBP"},
		{File: tx, Line: 4, Row: 3, Dataset: "transactions", Reason: event.ReasonMalformed},
		{File: tx, Line: 5, Row: 4, Dataset: "transactions", Reason: event.ReasonBadEncoding},
		{File: tx, Line: 6, Row: 5, Dataset: "transactions", Reason: event.ReasonBadField},
		{File: tx, Line: 7, Row: 6, Dataset: "transactions", Reason: event.ReasonTooLarge},
	}
	return dir, want
}

// readRejects returns the rejects file's lines keyed by file:line, without details and originals
// unless the wanted line names one.
func readRejects(t *testing.T, path string) map[string]rejectLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]rejectLine{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l rejectLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out[l.File+":"+itoa(l.Line)] = l
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func checkRejects(t *testing.T, path string, want []rejectLine) {
	t.Helper()
	got := readRejects(t, path)
	if len(got) != len(want) {
		t.Errorf("%d reject lines, want %d: %+v", len(got), len(want), got)
	}
	for _, w := range want {
		g, ok := got[w.File+":"+itoa(w.Line)]
		if !ok {
			t.Errorf("no reject for %s:%d", w.File, w.Line)
			continue
		}
		if g.Reason != w.Reason || g.Row != w.Row || g.Dataset != w.Dataset || (w.Original != "" && g.Original != w.Original) {
			t.Errorf("reject %s:%d = %+v, want %+v", w.File, w.Line, g, w)
		}
	}
}

func TestReplayRejects(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		dir, want := dirtyFiles(t)
		cfg := testConfig(t, k.Brokers(), ns, dir)
		s := run(t, cfg)
		wantReasons := map[event.Reason]int64{event.ReasonMalformed: 4, event.ReasonBadEncoding: 1, event.ReasonBadField: 1, event.ReasonTooLarge: 1}
		if s.Total.Read != 12 || s.Total.Sent != 5 || !reflect.DeepEqual(s.Total.Rejected, wantReasons) {
			t.Errorf("total %+v, want 12 read, 5 sent, rejects %v", s.Total, wantReasons)
		}
		for ds, n := range map[string]int64{"transactions": 7, "activity": 3, "feedback": 2} {
			if got := s.Datasets[ds]; got == nil || got.Read != n || got.Read != got.Sent+got.RejectedTotal() {
				t.Errorf("dataset %s: %+v, want %d read = sent + rejected", ds, got, n)
			}
		}
		checkRejects(t, cfg.RejectsPath, want)
		for topic, n := range map[string]int{
			string(ns.Stream(topology.Transactions)): 2, string(ns.Stream(topology.Activity)): 2,
			string(ns.Stream(topology.Feedback)): 1, string(ns.Stream(topology.DeadLetter)): 7,
		} {
			if got := len(readTopic(t, k.Brokers(), topic)); got != n {
				t.Errorf("%s: %d records, want %d", topic, got, n)
			}
		}
		dl := readTopic(t, k.Brokers(), string(ns.Stream(topology.DeadLetter)))
		sources := map[string]string{}
		for _, r := range dl {
			d, err := codecs.DecodeDeadLetter(r.value)
			if err != nil {
				t.Fatal(err)
			}
			if d.Processor != "replay" || r.key != d.Source {
				t.Errorf("dead letter %+v key %q", d, r.key)
			}
			sources[d.Source] = d.Reason
			if d.Source == "2024-03-01.csv:3" && string(d.Original) != "o1-2,o1,purchase,u1,P1,Mug,2,4.95,GBP" {
				t.Errorf("original bytes %q", d.Original)
			}
		}
		wantSources := map[string]string{"2024-03-01.json:4": "malformed", "2024-03-02.ndjson:2": "malformed",
			"2024-03-01.csv:3": "malformed", "2024-03-01.csv:4": "malformed", "2024-03-01.csv:5": "bad_encoding",
			"2024-03-01.csv:6": "bad_field", "2024-03-01.csv:7": "too_large"}
		if !reflect.DeepEqual(sources, wantSources) {
			t.Errorf("dead letters %v\nwant %v", sources, wantSources)
		}
	})
}

func TestTopicMissing(t *testing.T) {
	k := testenv.EmbeddedKafka(t)
	cfg := testConfig(t, k.Brokers(), testenv.Namespace(t), filepath.Join("testdata", "online-retail", "2011-07-26.csv.gz"))
	_, err := Run(context.Background(), cfg, nil)
	if !errors.Is(err, ErrTopicMissing) {
		t.Fatalf("err %v, want ErrTopicMissing", err)
	}
}

// TestReplayConcurrent runs the same replay twice at once on one manifest: the topic ends with
// every row once, one run sending and the other skipping.
func TestReplayConcurrent(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, filepath.Join("testdata", "online-retail"))
		results := make(chan *Summary, 2)
		for range 2 {
			go func() {
				s, err := Run(context.Background(), cfg, nil)
				if err != nil {
					t.Error(err)
				}
				results <- s
			}()
		}
		a, b := <-results, <-results
		if a == nil || b == nil {
			t.Fatal("a replay failed")
		}
		if a.Total.Sent+b.Total.Sent != subsetTotal || a.Total.Skipped+b.Total.Skipped != subsetTotal {
			t.Errorf("runs sent %d + %d, skipped %d + %d; want %d sent once and skipped once",
				a.Total.Sent, b.Total.Sent, a.Total.Skipped, b.Total.Skipped, subsetTotal)
		}
		checkExact(t, k.Brokers(), ns)
	})
}

// TestReplayUnreadableFile replays a directory with a gzip file cut short: the error names it,
// the other files are replayed, and its rows before the cut are counted.
func TestReplayUnreadableFile(t *testing.T) {
	k := testenv.EmbeddedKafka(t)
	ns := testenv.Namespace(t)
	createTopics(t, k.Brokers(), ns)
	dir := filepath.Join(t.TempDir(), "by-day")
	copyFile(t, filepath.Join("testdata", "online-retail", "2011-07-26.csv.gz"), filepath.Join(dir, "2011-07-26.csv.gz"))
	b, err := os.ReadFile(filepath.Join("testdata", "online-retail", "2010-12-02.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "2010-12-02.csv.gz")
	writeFile(t, broken, string(b[:len(b)/2]))
	cfg := testConfig(t, k.Brokers(), ns, dir)
	s, err := Run(context.Background(), cfg, nil)
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), broken) {
		t.Fatalf("err %v, want ErrUnreadable naming %s", err, broken)
	}
	byName := map[string]FileSummary{}
	for _, f := range s.Files {
		byName[filepath.Base(f.Path)] = f
	}
	if f := byName["2011-07-26.csv.gz"]; f.Status != StatusReplayed || f.Counts.Sent != 1279 {
		t.Errorf("good file: %+v", f)
	}
	if f := byName["2010-12-02.csv.gz"]; f.Status != StatusFailed || f.Counts.Read == 0 || f.Counts.Read != f.Counts.Sent || f.Err == "" {
		t.Errorf("broken file: %+v", f)
	}
}

// TestReplayOtherNamespace replays a file into two namespaces with one manifest: a replay to
// another target is not the same replay, so both topics get the rows.
func TestReplayOtherNamespace(t *testing.T) {
	k := testenv.EmbeddedKafka(t)
	file := filepath.Join("testdata", "online-retail", "2011-07-26.csv.gz")
	first := testenv.Namespace(t)
	createTopics(t, k.Brokers(), first)
	cfg := testConfig(t, k.Brokers(), first, file)
	run(t, cfg)
	second := topology.Namespace(string(first) + "b.")
	createTopics(t, k.Brokers(), second)
	cfg.Namespace = second
	s := run(t, cfg)
	if s.Files[0].Status != StatusReplayed || s.Total.Sent != 1279 {
		t.Errorf("into a second namespace: %+v", s.Files[0])
	}
	for _, ns := range []topology.Namespace{first, second} {
		if n := len(readTopic(t, k.Brokers(), string(ns.Stream(topology.Transactions)))); n != 1279 {
			t.Errorf("%s: %d records, want 1279", ns, n)
		}
	}
}
