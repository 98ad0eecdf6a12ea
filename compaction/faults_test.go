//go:build faults

package compaction_test

import (
	"context"
	"fmt"
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

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/testenv"
)

// fillTable creates a compacted 4-partition table topic (once) and writes keys [from, to) with
// random (incompressible) 100-byte values.
func fillTable(t *testing.T, brokers []string, table string, from, to int, create bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(table), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if create {
		if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, 1,
			map[string]*string{"cleanup.policy": ptr("compact")}, table); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(from), uint64(to)))
	for i := from; i < to; i++ {
		value := make([]byte, 100)
		for j := range value {
			value[j] = byte(rng.Uint32())
		}
		cl.Produce(context.Background(), &kgo.Record{Key: fmt.Appendf(nil, "key-%08d", i), Value: value}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// checkSnapshots checks that every visible snapshot dir is complete: it has a manifest, each part
// file is a Parquet file with the manifest's row count, and each sstable has the manifest's size. It returns the snapshots' dir names.
func checkSnapshots(t *testing.T, lakeDir, table string) []string {
	t.Helper()
	entries, _ := os.ReadDir(compaction.TableDir(lakeDir, table))
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a temp dir: hidden from readers, removed by the next run
		}
		dir := filepath.Join(compaction.TableDir(lakeDir, table), e.Name())
		m, err := compaction.ReadManifest(dir)
		if err != nil {
			t.Errorf("visible snapshot %s without a valid manifest: %v", e.Name(), err)
			continue
		}
		for _, pm := range m.Partitions {
			rows, err := parquet.ReadFile[compaction.Row](filepath.Join(dir, pm.File))
			if err != nil || int64(len(rows)) != pm.Rows {
				t.Errorf("%s/%s: %d rows (%v), manifest says %d", e.Name(), pm.File, len(rows), err, pm.Rows)
			}
			if fi, err := os.Stat(filepath.Join(dir, pm.SST)); err != nil || fi.Size() != pm.SSTBytes {
				t.Errorf("%s/%s: %v, manifest says %d bytes", e.Name(), pm.SST, err, pm.SSTBytes)
			}
		}
		names = append(names, e.Name())
	}
	return names
}

func rowsOf(s compaction.Snapshot) int64 {
	var n int64
	for _, pm := range s.Manifest.Partitions {
		n += pm.Rows
	}
	return n
}

// TestFaultCompactChild is the compactor the SIGKILL test runs in a child process.
func TestFaultCompactChild(t *testing.T) {
	if os.Getenv("SHOPEASE_COMPACT_CHILD") == "" {
		return // only as a child of TestFaultCompactSigkill
	}
	_, err := compaction.Compact(context.Background(), compaction.Config{Brokers: []string{os.Getenv("SHOPEASE_COMPACT_BROKER")},
		LakeDir: os.Getenv("SHOPEASE_COMPACT_DIR"), Tables: []string{os.Getenv("SHOPEASE_COMPACT_TABLE")}, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFaultCompactSigkill kills the compactor with SIGKILL at random moments: every visible
// snapshot stays complete and the one before the kills stays the newest until a run finishes;
// a final run builds a snapshot with every key.
func TestFaultCompactSigkill(t *testing.T) {
	k := testenv.RealKafka(t)
	table := string(testenv.Namespace(t)) + "faults-table"
	const first, step = 20_000, 200_000
	fillTable(t, k.Brokers(), table, 0, first, true)
	lakeDir := t.TempDir()
	cfg := compaction.Config{Brokers: k.Brokers(), LakeDir: lakeDir, Tables: []string{table}, Keep: 2}
	if _, err := compaction.Compact(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	prev, all := int64(first), first
	for i := range 3 {
		// New keys before every kill, so that each child has a snapshot to build.
		fillTable(t, k.Brokers(), table, all, all+step, false)
		all += step
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultCompactChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SHOPEASE_COMPACT_CHILD=1", "SHOPEASE_COMPACT_BROKER="+k.Brokers()[0],
			"SHOPEASE_COMPACT_DIR="+lakeDir, "SHOPEASE_COMPACT_TABLE="+table)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(50+rng.IntN(500)) * time.Millisecond
		time.Sleep(wait)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		names := checkSnapshots(t, lakeDir, table)
		newest, err := compaction.Newest(lakeDir, table)
		if err != nil {
			t.Fatal(err)
		}
		if n := rowsOf(newest); n != prev && n != int64(all) {
			t.Errorf("kill %d: newest snapshot has %d keys, want %d (before) or %d (complete)", i+1, n, prev, all)
		}
		prev = rowsOf(newest)
		t.Logf("kill %d after %s: snapshots %v, newest has %d keys", i+1, wait, names, rowsOf(newest))
	}
	snaps, err := compaction.Compact(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(snaps[0]); n != int64(all) {
		t.Errorf("final snapshot has %d keys, want %d", n, all)
	}
	if names := checkSnapshots(t, lakeDir, table); len(names) != 2 {
		t.Errorf("snapshots %v, want the newest 2", names)
	}
}

// TestFaultCompactDiskFull fills the lake's file system during a snapshot: the run fails with
// ENOSPC, the previous snapshot stays the newest and restores completely, and nothing partial is
// visible. Mounting the tmpfs needs root (CAP_SYS_ADMIN).
func TestFaultCompactDiskFull(t *testing.T) {
	k := testenv.RealKafka(t)
	table := string(testenv.Namespace(t)) + "full-table"
	fillTable(t, k.Brokers(), table, 0, 2_000, true)
	lakeDir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", lakeDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", lakeDir).Run() })
	cfg := compaction.Config{Brokers: k.Brokers(), LakeDir: lakeDir, Tables: []string{table}, Keep: 2}
	before, err := compaction.Compact(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fillTable(t, k.Brokers(), table, 2_000, 200_000, false)
	_, err = compaction.Compact(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("snapshot on a full disk: %v, want ENOSPC", err)
	}
	newest, err := compaction.Newest(lakeDir, table)
	if err != nil || newest.Dir != before[0].Dir {
		t.Fatalf("newest after the failed run: %v %v, want %s", newest.Dir, err, before[0].Dir)
	}
	if names := checkSnapshots(t, lakeDir, table); len(names) != 1 {
		t.Errorf("visible snapshots %v, want only the previous one", names)
	}
	res, err := compaction.Restore(newest, t.TempDir(), nil)
	var n int64
	for _, r := range res {
		n += r.Rows
	}
	if err != nil || n != 2_000 {
		t.Errorf("restore of the previous snapshot: %d rows, %v; want 2000", n, err)
	}
}
