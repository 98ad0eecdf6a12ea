//go:build faults

package systemtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// TestFaultReplayTwice (issue 11 case 7): the same history replayed again, under a new name, with
// --force, and by three replays at once that do not share a manifest, ends with exactly the tables
// outcomes of one replay (compareOutcomes). The manifest makes the repeats with the same manifest
// no-ops; the others put every record on the raw topics two or three times, and the processors'
// dedupe (transaction line and review claims, inventory report ids, journeys' event ids) must
// absorb it.
func TestFaultReplayTwice(t *testing.T) {
	defer timed(t, "case 7")()
	k := testenv.RealKafka(t)
	hist := generated(t, generate.Tiny())
	renamed := renamedCopy(t, hist.Dir)
	ref := calm(t, k.Brokers(), hist)

	t.Run("sequential", func(t *testing.T) {
		defer timed(t, "case 7 sequential")()
		ns := faultNS(t, "c7sq")
		g := startRun(t, k.Brokers(), ns)
		manifest, rejects := filepath.Join(t.TempDir(), "manifest.json"), filepath.Join(t.TempDir(), "rejects.ndjson")
		first := totals(t, shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, manifest, rejects, hist.Dir)...))
		if first.sent == 0 || first.read != first.sent+first.rejected {
			t.Fatalf("first replay: read %d sent %d rejected %d", first.read, first.sent, first.rejected)
		}
		for _, again := range []struct {
			what string
			dir  string
		}{{"the same files again", hist.Dir}, {"a renamed copy", renamed}} {
			got := totals(t, shopease(t, 3*time.Minute, replayArgs(k.Brokers(), ns, manifest, rejects, again.dir)...))
			if got.sent != 0 || got.rejected != 0 || got.read != 0 || got.files != first.files {
				t.Errorf("%s with the same manifest: %d files, read %d sent %d rejected %d; want every one of the %d files skipped",
					again.what, got.files, got.read, got.sent, got.rejected, first.files)
			}
		}
		forced := totals(t, shopease(t, 3*time.Minute, append(replayArgs(k.Brokers(), ns, manifest, rejects, hist.Dir), "--force")...))
		if forced.sent != first.sent {
			t.Errorf("--force replay sent %d records, the first %d", forced.sent, first.sent)
		}
		compareOutcomes(t, k.Brokers(), hist, ref, ns, finishRun(t, g, 3*time.Minute))
	})

	t.Run("concurrent", func(t *testing.T) {
		defer timed(t, "case 7 concurrent")()
		ns := faultNS(t, "c7cc")
		g := startRun(t, k.Brokers(), ns)
		var wg sync.WaitGroup
		dirs := []string{hist.Dir, hist.Dir, renamed}
		res := make([]cliResult, len(dirs))
		for i, dir := range dirs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// One manifest each: three machines replaying the same export at once.
				res[i] = shopease(t, 5*time.Minute, replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "manifest.json"),
					filepath.Join(t.TempDir(), "rejects.ndjson"), dir)...)
			}()
		}
		wg.Wait()
		for i, r := range res {
			tot := totals(t, r)
			if r.code != 0 || tot.lost != 0 || tot.read != tot.sent+tot.rejected {
				t.Errorf("concurrent replay %d of %s: exit %d, read %d sent %d rejected %d lost %d", i+1, dirs[i], r.code, tot.read, tot.sent, tot.rejected, tot.lost)
			}
		}
		compareOutcomes(t, k.Brokers(), hist, ref, ns, finishRun(t, g, 3*time.Minute))
	})
}

// compareOutcomes requires a run whose raw topics hold the input more than once to have the
// outcomes of one replay: the same distinct records (key and value) on every output topic, and
// the same three live reports, to the cent. Tables are compared through the reports: their
// fences hold raw offsets, and a repeat sits at other offsets by construction. An output may
// carry a repeat (the stateless gateways pass a record replayed twice on; its consumers drop it):
// the count of records is not compared, only what they say.
func compareOutcomes(t *testing.T, brokers []string, hist generate.Config, ref calmRun, ns topology.Namespace, got map[string][]record) {
	t.Helper()
	content := func(ns topology.Namespace, recs []record) map[[2]string]bool {
		s := map[[2]string]bool{}
		for _, r := range recs {
			if event.IsControlKey(r.key) {
				// An end-of-input marker names the raw offsets its replay ended at, which differ
				// when the raw topics hold the input more than once; each replay sends its own.
				continue
			}
			// A clean inventory record names its source file: the renamed copy's is another name.
			v := strings.ReplaceAll(strings.ReplaceAll(r.value, string(ns), "NS."), copyPrefix, "")
			s[[2]string{strings.ReplaceAll(r.key, string(ns), "NS."), v}] = true
		}
		return s
	}
	outputs := 0
	for _, name := range sortedKeys(ref.topics) {
		short := strings.TrimPrefix(name, string(ref.ns))
		if strings.HasSuffix(short, "-table") || strings.HasSuffix(short, "-loop") || short == string(topology.DeadLetter) {
			continue
		}
		outputs++
		want, have := content(ref.ns, ref.topics[name]), content(ns, got[string(ns)+short])
		missing, extra := 0, 0
		for r := range want {
			if !have[r] {
				missing++
			}
		}
		for r := range have {
			if !want[r] {
				extra++
			}
		}
		if missing+extra > 0 {
			t.Errorf("%s: %d records of one replay missing, %d records one replay does not have", short, missing, extra)
		}
	}
	asOf := hist.Start.AddDate(0, 0, hist.Days).Format(time.DateOnly)
	for _, report := range []string{"top-products", "monthly-revenue", "inventory-turnover"} {
		run := func(ns topology.Namespace) string {
			r := shopease(t, 2*time.Minute, "report", "--live", report, "--brokers", strings.Join(brokers, ","),
				"--namespace", string(ns), "--format", "csv", "--as-of", asOf, "--log-level", "warn")
			if r.code != 0 {
				t.Fatalf("report --live %s: exit %d\n%s", report, r.code, r.stderr)
			}
			return r.stdout
		}
		if want, have := run(ref.ns), run(ns); want != have {
			t.Errorf("report --live %s differs from one replay's:\n%s\nwant:\n%s", report, have, want)
		}
	}
	t.Logf("%d output topics and 3 live reports equal to one replay's", outputs)
}

// copyPrefix starts the name of every file of renamedCopy.
const copyPrefix = "copy-of-"

// renamedCopy copies the history in dir to a new dir, every input file under a new name (the
// dataset folders are kept: they name the dataset).
func renamedCopy(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if filepath.Dir(rel) == "." {
			return nil // truth.json: not input
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(out, filepath.Dir(rel), copyPrefix+filepath.Base(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
