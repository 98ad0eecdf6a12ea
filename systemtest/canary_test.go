package systemtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/tables/inspect"
	"github.com/shopease/shopease/testenv"
)

const (
	canaryPrefix = "CANARY-pii-"
	canaries     = 100
)

func canaryID(i int) string { return fmt.Sprintf("%s%03d", canaryPrefix, i) }

// pseudonymOf recomputes a pseudonym from testKey without the code under test:
// "p<version>_" + the first 16 bytes of HMAC-SHA256(secret, id) in hex.
func pseudonymOf(t *testing.T, id string) string {
	secret, err := hex.DecodeString(testKey[len("v7:"):])
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id))
	return "p7_" + hex.EncodeToString(m.Sum(nil)[:16])
}

// writeCanaryHistory writes activity, transactions and feedback files in which 100 known raw user
// ids act (round r gives new event ids), plus one rejected transaction line per user, whose dead
// letter is the positive control: the raw id must be found there.
func writeCanaryHistory(t *testing.T, dir string, round int) {
	t.Helper()
	var act, fb strings.Builder
	tx := strings.Builder{}
	tx.WriteString("line_id,order_id,type,user_id,product_id,description,quantity,unit_price,currency,country,time\n")
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(round) * time.Hour)
	for i := 0; i < canaries; i++ {
		u, ts := canaryID(i), base.Add(time.Duration(i)*time.Second).Format(time.RFC3339)
		fmt.Fprintf(&act, `{"event_id":"ca-%d-%03d","user_id":%q,"session_id":"cs-%d-%03d","type":"product_view","product_id":"P0001","time":%q}`+"\n", round, i, u, round, i, ts)
		if round == 0 {
			fmt.Fprintf(&tx, "cn-%03d-1,cn-%03d,purchase,%s,P0001,Mug,1,9.99,GBP,UK,%s\n", i, i, u, ts)
			fmt.Fprintf(&tx, "cb-%03d-1,cb-%03d,purchase,%s,P0001,Mug,1,0,GBP,UK,%s\n", i, i, u, ts) // bad_price
			fmt.Fprintf(&fb, `{"review_id":"rcn-%03d","user_id":%q,"product_id":"P0001","rating":4,"title":"ok","time":%q}`+"\n", i, u, ts)
		}
	}
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("activity/canary-%d.ndjson", round), act.String())
	if round == 0 {
		write("transactions/canary.csv", tx.String())
		write("feedback/canary.ndjson", fb.String())
	}
}

func replayDir(t *testing.T, brokers []string, ns topology.Namespace, dir string) *replay.Summary {
	t.Helper()
	rc := replay.DefaultConfig()
	rc.Paths, rc.Brokers, rc.Namespace = []string{dir}, brokers, ns
	rc.ManifestPath, rc.RejectsPath = filepath.Join(t.TempDir(), "manifest.json"), ""
	sum, err := replay.Run(context.Background(), rc, nil)
	if err != nil {
		t.Fatalf("replay %s: %v", dir, err)
	}
	return sum
}

// TestPIICanary (issue 5 item 6): 100 known raw user ids go in; none of them appears in any
// non-raw topic, any table (Pebble files and decoded scans) or any log line of the processors,
// and each maps to the same pseudonym across a restart.
func TestPIICanary(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		cfg := cluster.Config{Brokers: k.Brokers(), Namespace: ns}
		if _, err := cfg.EnsureTopics(4); err != nil {
			t.Fatal(err)
		}
		g := newGroup(t, k.Brokers(), ns)
		g.level = "debug" // the log check must see everything the processors say
		round0, round1 := t.TempDir(), t.TempDir()
		writeCanaryHistory(t, round0, 0)
		writeCanaryHistory(t, round1, 1)

		g.start()
		replayDir(t, k.Brokers(), ns, round0)
		quiesce(t, g, 3*time.Minute)
		g.stop()
		g.start() // a restart: the same raw id must map to the same pseudonym
		replayDir(t, k.Brokers(), ns, round1)
		quiesce(t, g, 3*time.Minute)
		g.stop()

		topics := dumpTopics(t, k.Brokers(), ns)
		for name, recs := range topics {
			for _, r := range recs {
				if strings.Contains(r.key+r.value+r.origin, canaryPrefix) {
					t.Fatalf("raw user id in non-raw topic %s: key %q", name, r.key)
				}
			}
		}
		perUser := map[string]int{}
		for _, r := range topics[string(ns.Stream(topology.CleanActivity))] {
			perUser[r.key]++
		}
		for i := 0; i < canaries; i++ {
			if n := perUser[pseudonymOf(t, canaryID(i))]; n != 2 {
				t.Fatalf("user %d: %d clean activity records under its pseudonym, want 2 (one per run)", i, n)
			}
		}

		// Positive control: the raw ids are found where they belong: in the original bytes of the
		// dead letters (base64 in the JSON, hence decoded first).
		found := 0
		for _, r := range dumpRaw(t, k.Brokers(), ns.Stream(topology.DeadLetter)) {
			dl, err := codecs.DecodeDeadLetter([]byte(r.value))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(dl.Original), canaryPrefix) {
				found++
			}
		}
		if found != canaries {
			t.Errorf("positive control: %d dead letters carry a canary, want %d (the bad_price lines)", found, canaries)
		}

		// The lake: archive what the topics hold (the writer inside run flushes once a minute),
		// then read every Parquet value back decoded (pages are zstd-compressed).
		lakeDir := filepath.Join(g.dataDir, "lake")
		if out, err := exec.Command(binary, "lake", "--once", "--brokers", strings.Join(k.Brokers(), ","),
			"--namespace", string(ns), "--lake-dir", lakeDir).CombinedOutput(); err != nil {
			t.Fatalf("shopease lake --once: %v\n%s", err, out)
		}
		assertNoCanaryInParquet(t, lakeDir, pseudonymOf(t, canaryID(0)))

		assertNoCanaryInFiles(t, g.dataDir)
		assertNoCanaryInTables(t, g.dataDir, ns)
		if logs := g.allLogs(); strings.Contains(logs, canaryPrefix) {
			i := strings.Index(logs, canaryPrefix)
			t.Errorf("raw user id in the processors' log output: …%s…", logs[max(0, i-200):min(len(logs), i+50)])
		} else if !strings.Contains(logs, "level=DEBUG") {
			t.Errorf("the log check saw no debug output; it would prove nothing")
		}
	})
}

// dumpRaw reads one raw topic (the PII check skips raw topics; the control reads one).
func dumpRaw(t *testing.T, brokers []string, topic goka.Stream) []record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return readTopic(waitCtx(t, time.Minute), t, cl, kadm.NewClient(cl), string(topic))
}

// assertNoCanaryInParquet reads every value of every Parquet file under dir and requires that no
// raw canary id is among them, and that the pseudonym of one canary is (the lake holds the run).
func assertNoCanaryInParquet(t *testing.T, dir, pseudonym string) {
	t.Helper()
	files, values, pseudonyms := 0, 0, 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		files++
		for _, rg := range pf.RowGroups() {
			rows := rg.Rows()
			buf := make([]parquet.Row, 256)
			for {
				n, err := rows.ReadRows(buf)
				for _, row := range buf[:n] {
					for _, v := range row {
						values++
						if v.Kind() != parquet.ByteArray {
							continue
						}
						b := v.ByteArray()
						if bytes.Contains(b, []byte(canaryPrefix)) {
							t.Errorf("raw user id in lake file %s", path)
						}
						if string(b) == pseudonym {
							pseudonyms++
						}
					}
				}
				if err != nil {
					rows.Close()
					if errors.Is(err, io.EOF) {
						break
					}
					return fmt.Errorf("%s: %w", path, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || pseudonyms == 0 {
		t.Fatalf("the lake check read %d files, %d values, found canary 0's pseudonym %d times: it would prove nothing", files, values, pseudonyms)
	}
}

func assertNoCanaryInFiles(t *testing.T, dir string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(canaryPrefix)) {
			t.Errorf("raw user id in local state file %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no local state files under %s", dir)
	}
}

// assertNoCanaryInTables scans every table decoded (Pebble blocks may be compressed, so the raw
// file check alone could miss an id).
func assertNoCanaryInTables(t *testing.T, dataDir string, ns topology.Namespace) {
	t.Helper()
	scanned := 0
	for _, tb := range processors.Tables {
		dir := filepath.Join(dataDir, "processor", string(ns.Group(tb.Group)))
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		src, err := inspect.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		err = src.Scan(context.Background(), string(ns.Table(tb.Group)), inspect.Query{}, func(r inspect.Record) error {
			scanned++
			js, err := inspect.JSON(tb.Codec, r)
			if err != nil {
				return err
			}
			if bytes.Contains(js, []byte(canaryPrefix)) || strings.Contains(r.Key, canaryPrefix) {
				t.Errorf("raw user id in table %s: %s", tb.Group, js)
			}
			return nil
		})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 2*canaries {
		t.Errorf("scanned only %d table records; the canary run should leave ≥ %d", scanned, 2*canaries)
	}
}
