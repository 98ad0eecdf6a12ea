//go:build faults

package lake_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

const faultRecords = 30_000

// produceClean writes n clean transaction lines to the namespaced clean topic (4 partitions), with
// event times spread over 5 days in random order, so that every batch spans several dates.
func produceClean(t *testing.T, brokers []string, ns topology.Namespace, n int) {
	t.Helper()
	topic := string(ns.Stream(topology.CleanTransactions))
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		l := &event.TransactionLine{LineID: fmt.Sprintf("l%06d", i), OrderID: "o", Type: event.Purchase,
			UserID: fmt.Sprintf("ps1:u%d", i%97), ProductID: "P1", Quantity: 1, UnitPrice: event.MustMoney("1.5"),
			Description: strings.Repeat("d", 40), Time: day.Add(time.Duration(rng.IntN(5*24*3600)) * time.Second)}
		b, err := codecs.AppendTransactionLine(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		cl.Produce(context.Background(), &kgo.Record{Key: []byte(l.UserID), Value: b}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// checkLake reads every visible file of the transactions dataset: each must be a complete Parquet
// file. It returns how often each partition/offset occurs.
func checkLake(t *testing.T, lakeDir string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	root := filepath.Join(lakeDir, "events", lake.Transactions)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return nil
		}
		rows, err := parquet.ReadFile[lake.TransactionRow](p)
		if err != nil {
			t.Errorf("visible file %s is not a complete Parquet file: %v", p, err)
			return nil
		}
		for _, r := range rows {
			seen[fmt.Sprintf("%d/%d", r.KafkaPartition, r.KafkaOffset)]++
		}
		return nil
	})
	return seen
}

func exact(t *testing.T, seen map[string]int, n int) {
	t.Helper()
	if len(seen) != n {
		t.Errorf("%d distinct records in the lake, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("record %s written %d times", k, c)
		}
	}
}

func lakeConfig(brokers []string, ns topology.Namespace, dir string) lake.Config {
	return lake.Config{Brokers: brokers, Namespace: ns, LakeDir: dir, Once: true,
		Datasets: []string{lake.Transactions}, MaxBatchRows: 300, RowGroupRows: 100}
}

// TestFaultLakeChild is the lake writer the SIGKILL test runs in a child process.
func TestFaultLakeChild(t *testing.T) {
	if os.Getenv("SHOPEASE_LAKE_CHILD") == "" {
		return // only as a child of TestFaultLakeSigkill
	}
	cfg := lakeConfig([]string{os.Getenv("SHOPEASE_LAKE_BROKER")}, topology.Namespace(os.Getenv("SHOPEASE_LAKE_NS")), os.Getenv("SHOPEASE_LAKE_DIR"))
	if _, err := lake.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

// TestFaultLakeSigkill kills the lake writer with SIGKILL at random moments, five times, checking
// after each kill that every visible file is complete, then lets it finish: every record is in the
// lake exactly once.
func TestFaultLakeSigkill(t *testing.T) {
	k := testenv.RealKafka(t)
	ns := testenv.Namespace(t)
	const n = 4 * faultRecords
	produceClean(t, k.Brokers(), ns, n)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultLakeChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SHOPEASE_LAKE_CHILD=1", "SHOPEASE_LAKE_BROKER="+k.Brokers()[0],
			"SHOPEASE_LAKE_NS="+string(ns), "SHOPEASE_LAKE_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(150+rng.IntN(600)) * time.Millisecond
		time.Sleep(wait)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		seen := checkLake(t, dir)
		t.Logf("kill %d after %s: %d records in the lake", i+1, wait, len(seen))
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("after kill %d record %s is in the lake %d times", i+1, k, c)
			}
		}
	}
	if _, err := lake.Run(context.Background(), lakeConfig(k.Brokers(), ns, dir)); err != nil {
		t.Fatal(err)
	}
	exact(t, checkLake(t, dir), n)
}

// TestFaultLakeDiskFull writes the lake to a 1 MiB tmpfs: the writer fails with ENOSPC and no
// partial file is visible; once the file system is grown, a rerun completes the lake exactly.
// Mounting needs root (CAP_SYS_ADMIN).
func TestFaultLakeDiskFull(t *testing.T) {
	k := testenv.RealKafka(t)
	ns := testenv.Namespace(t)
	produceClean(t, k.Brokers(), ns, faultRecords)
	dir := mountTmpfs(t, "1m")
	_, err := lake.Run(context.Background(), lakeConfig(k.Brokers(), ns, dir))
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("lake on a full disk: %v, want ENOSPC", err)
	}
	seen := checkLake(t, dir)
	t.Logf("disk full after %d records: %v", len(seen), err)
	if len(seen) >= faultRecords {
		t.Fatalf("1 MiB held all %d records; the test did not fill the disk", faultRecords)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=256m", dir).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v %s", err, out)
	}
	if _, err := lake.Run(context.Background(), lakeConfig(k.Brokers(), ns, dir)); err != nil {
		t.Fatal(err)
	}
	exact(t, checkLake(t, dir), faultRecords)
}

func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}
