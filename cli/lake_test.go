package cli

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestLakeCompactRestoreCommands drives lake, compact and restore after a run over a Tiny history:
// lake --once archives exactly the accepted transaction lines, compact snapshots the tables,
// restore leaves existing state alone and restores a removed table with the snapshot's rows.
func TestLakeCompactRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	if out, code := runMain(t, "generate", "--preset", "tiny", "--out", dir+"/h"); code != 0 {
		t.Fatalf("generate: %s", out)
	}
	truth, err := generate.LoadTruth(dir + "/h/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	accepted := truth.Datasets[generate.DatasetTransactions].Accepted
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		dataDir, lakeDir := t.TempDir(), t.TempDir()
		common := []string{"--brokers", strings.Join(k.Brokers(), ","), "--namespace", string(ns), "--log-level", "warn"}
		if out, code := runMain(t, append([]string{"topics", "create", "--partitions", "2"}, common...)...); code != 0 {
			t.Fatalf("topics create: %s", out)
		}
		if out, code := runMain(t, append([]string{"replay", dir + "/h", "--manifest", t.TempDir() + "/m.json", "--rejects", ""}, common...)...); code != 0 {
			t.Fatalf("replay: %s", out)
		}
		// The replay ends with end-of-input markers: each of the 2 raw partitions' marker goes to
		// both clean partitions, 2 × 2 records that are no line (the lake leaves them out).
		runUntil(t, append([]string{"run", "--demo-key", "--data-dir", dataDir}, common...), k.Brokers(), map[string]int64{
			string(ns.Stream(topology.CleanTransactions)): accepted + 2*2,
			string(ns.Stream(topology.CleanFeedback)):     truth.Datasets[generate.DatasetFeedback].Accepted,
		})

		out, code := runMain(t, append([]string{"lake", "--once", "--lake-dir", lakeDir}, common...)...)
		if m := regexp.MustCompile(`transactions +(\d+) rows`).FindStringSubmatch(out); code != 0 || m == nil || m[1] != strconv.FormatInt(accepted, 10) {
			t.Fatalf("lake: exit %d, want %d transaction rows:\n%s", code, accepted, out)
		}
		out, code = runMain(t, append([]string{"compact", "--lake-dir", lakeDir, "shopease-ratings"}, common...)...)
		m := regexp.MustCompile(`shopease-ratings-table/snapshot=\S+ (\d+) rows in 2 partitions`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("compact: exit %d:\n%s", code, out)
		}
		rows, _ := strconv.Atoi(m[1])
		restore := append([]string{"restore", "shopease-ratings", "--data-dir", dataDir, "--lake-dir", lakeDir}, common...)
		out, code = runMain(t, restore...)
		if code != 0 || strings.Count(out, "skipped") != 2 {
			t.Fatalf("restore over existing state: exit %d:\n%s", code, out)
		}
		if err := os.RemoveAll(filepath.Join(dataDir, "processor", string(ns.Group(topology.RatingsGroup)))); err != nil {
			t.Fatal(err)
		}
		out, code = runMain(t, restore...)
		restored := 0
		for _, m := range regexp.MustCompile(`partition \d+: (\d+) rows`).FindAllStringSubmatch(out, -1) {
			n, _ := strconv.Atoi(m[1])
			restored += n
		}
		if code != 0 || restored != rows || rows == 0 {
			t.Fatalf("restore: exit %d, %d rows restored, snapshot has %d:\n%s", code, restored, rows, out)
		}
		if out, code := runMain(t, append([]string{"restore", "no-such-table"}, common...)...); code != 2 {
			t.Errorf("restore of an unknown table: exit %d, want 2:\n%s", code, out)
		}
	})
}

// runUntil runs the command until each topic holds the wanted records, then stops it cleanly.
func runUntil(t *testing.T, args []string, brokers []string, want map[string]int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var log bytes.Buffer
	go func() { done <- Main(ctx, args, &log, &log) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%s: exit %d:\n%s", args[0], code, log.String())
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		got := map[string]int64{}
		for topic := range want {
			if ends, err := adm.ListEndOffsets(context.Background(), topic); err == nil {
				ends.Each(func(o kadm.ListedOffset) { got[topic] += o.Offset })
			}
		}
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics hold %v records after 3 min, want %v", got, want)
		}
	}
}
