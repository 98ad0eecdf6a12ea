//go:build faults

package systemtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestFaultDamagedLocalState (issue 11 case 4): after a replay has been processed and the group
// stopped, its local Pebble state is damaged in three ways, one restart each: every table dir
// deleted, an SST file cut in half, a MANIFEST cut in half. Each restart must either rebuild by
// itself and end exact, or stop at once with a clear error naming the damaged dir (and, with
// that dir removed as the error says, end exact) — never panic and never restart in a loop.
func TestFaultDamagedLocalState(t *testing.T) {
	defer timed(t, "case 4")()
	k := testenv.RealKafka(t)
	hist := generated(t, generate.Tiny())
	ref := calm(t, k.Brokers(), hist)
	ns := faultNS(t, "c4ps")
	g := startRun(t, k.Brokers(), ns)
	if res := shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), "", hist.Dir)...); res.code != 0 {
		t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
	}
	quiesce(t, g, 3*time.Minute)
	g.stop()
	state := filepath.Join(g.dataDir, "processor")

	for _, damage := range []struct {
		name string
		do   func(t *testing.T) string // returns the damaged table partition dir ("" for all)
	}{
		{"every table dir deleted", func(t *testing.T) string {
			if err := os.RemoveAll(state); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
		// Tiny's tables fit in Pebble's memtable: their data is in the write-ahead log until a
		// compaction writes an SST, so the largest of either is cut.
		{"the largest WAL or SST file cut in half", func(t *testing.T) string { return truncateLargest(t, state, ".log", ".sst") }},
		{"a MANIFEST cut in half", func(t *testing.T) string { return truncateLargest(t, state, "MANIFEST-") }},
	} {
		start := time.Now()
		dir := damage.do(t)
		g.start()
		if exited, out := exitsWithin(g, 30*time.Second); exited {
			// A clear error: it names the damaged dir, and no panic.
			if strings.Contains(out, "panic:") || dir == "" || !strings.Contains(out, filepath.Base(dir)) {
				t.Fatalf("%s: shopease run exited without a clear error naming %s:\n%s", damage.name, dir, lastLines(out, 30))
			}
			t.Logf("%s: shopease run stopped with a clear error naming the damaged dir; removing it", damage.name)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			g.start()
		}
		quiesce(t, g, 3*time.Minute)
		if n := strings.Count(g.cur.output(), "processor failed; restarting"); n > 1 {
			t.Errorf("%s: %d processor restarts, want at most 1 (a rebuild, not a loop)", damage.name, n)
		}
		g.stop()
		compareRuns(t, ref.ns, ref.topics, ns, dumpTopics(t, k.Brokers(), ns))
		t.Logf("case 4, %s (%s): exact after %s", damage.name, dir, time.Since(start).Round(time.Second))
	}
}

// truncateLargest cuts the largest file under root whose name contains one of parts to half its
// size and returns the table partition dir it is in.
func truncateLargest(t *testing.T, root string, parts ...string) string {
	t.Helper()
	var best string
	var size int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.ContainsFunc(parts, func(p string) bool { return strings.Contains(d.Name(), p) }) {
			return err
		}
		if info, err := d.Info(); err == nil && info.Size() > size {
			best, size = p, info.Size()
		}
		return nil
	})
	if err != nil || best == "" {
		t.Fatalf("no file with %q under %s (%v)", parts, root, err)
	}
	if err := os.Truncate(best, size/2); err != nil {
		t.Fatal(err)
	}
	t.Logf("cut %s from %d to %d bytes", best, size, size/2)
	return filepath.Dir(best)
}

// exitsWithin reports whether the current process of g has exited or exits within d, with its
// output.
func exitsWithin(g *group, d time.Duration) (bool, string) {
	p := g.cur
	select {
	case err := <-p.done:
		p.done <- err // for a later kill
		g.cur = nil
		return true, p.output()
	default:
	}
	if d == 0 {
		return false, ""
	}
	select {
	case err := <-p.done:
		p.done <- err
		g.cur = nil
		return true, p.output()
	case <-time.After(d):
		return false, ""
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestFaultTopicsRecreated (issue 11 case 5, lovoo/goka #415): the group processes a history and
// stops; then every topic and consumer group of its namespace is deleted and the raw topics are
// created again (a broker rebuilt, or a namespace reset) while the group's local state stays. A
// larger, different history is replayed and the group started on its old dir. Its tables must be
// those of an undisturbed run of the new history alone: the old local state is detected as stale
// and never served.
func TestFaultTopicsRecreated(t *testing.T) {
	defer timed(t, "case 5")()
	k := testenv.RealKafka(t)
	first := generated(t, generate.Tiny())
	second := generate.Tiny()
	second.Seed, second.SessionsPerDay = 2, 2*second.SessionsPerDay // more records per partition than the old state holds
	second = generated(t, second)
	ref := calm(t, k.Brokers(), second)

	ns := faultNS(t, "c5tr")
	g := startRun(t, k.Brokers(), ns)
	if res := shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), "", first.Dir)...); res.code != 0 {
		t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
	}
	quiesce(t, g, 3*time.Minute)
	g.stop()

	deleteNamespace(t, k.Brokers(), ns)
	cfg := cluster.Config{Brokers: k.Brokers(), Namespace: ns}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		_, err := cfg.EnsureTopics(4) // the raw topics again
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create the raw topics again: %v", err)
		}
	}
	g.start() // on the old dir
	if res := shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), "", second.Dir)...); res.code != 0 {
		t.Fatalf("replay of the second history: exit %d\n%s", res.code, res.stderr)
	}
	if exited, out := exitsWithin(g, 20*time.Second); exited {
		t.Logf("shopease run on the stale dir exited:\n%s", lastLines(out, 20))
		g.start()
	}
	compareRuns(t, ref.ns, ref.topics, ns, finishRun(t, g, 3*time.Minute))
	if n := strings.Count(g.allLogs(), "changelog topic that was deleted since"); n == 0 {
		t.Errorf("no table partition reported its local state stale")
	} else {
		t.Logf("case 5: %d table partitions found their local state stale and rebuilt it; tables equal an undisturbed run of the new history", n)
	}
}

// deleteNamespace deletes every topic and consumer group of ns and waits until the broker lists
// none of the topics.
func deleteNamespace(t *testing.T, brokers []string, ns topology.Namespace) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := waitCtx(t, 2*time.Minute)
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, gr := range groups.Groups() {
		if strings.HasPrefix(gr, string(ns)) {
			mine = append(mine, gr)
		}
	}
	if _, err := adm.DeleteGroups(ctx, mine...); err != nil {
		t.Fatal(err)
	}
	for {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, string(ns)) {
				left = append(left, name)
			}
		}
		if len(left) == 0 {
			break
		}
		if _, err := adm.DeleteTopics(ctx, left...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	t.Logf("deleted every topic and %d consumer groups of %s", len(mine), ns)
}
