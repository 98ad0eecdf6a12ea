package systemtest

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/replay"
	"github.com/shopease/shopease/testenv"
)

// killCase is one kill-and-restart experiment: a history replayed at a rate that makes the replay
// last a while, and the number of SIGKILLs during it.
type killCase struct {
	history generate.Config
	rate    float64
	kills   int
}

// TestKillRestartIsExact (issue 5 item 7, fast variant): the processor group killed with SIGKILL
// three times at random moments during a replay, restarted each time, ends with exactly the tables
// and outputs of an undisturbed run of the same input.
func TestKillRestartIsExact(t *testing.T) {
	runKillCase(t, killCase{history: generate.Tiny(), rate: 400, kills: 3})
}

func runKillCase(t *testing.T, kc killCase) {
	hist := kc.history
	hist.Dir = t.TempDir()
	if _, err := generate.Run(context.Background(), hist, nil); err != nil {
		t.Fatal(err)
	}
	// Real Kafka only: a SIGKILLed member stays in its consumer group until the broker expires it,
	// and that is broker behaviour a user relies on. kfake (the demo's in-process broker, which
	// dies with the demo) sometimes never hands the killed member's partitions on (lag stuck for
	// minutes in 2 of 5 runs here), so it proves nothing either way.
	t.Run(testenv.NameReal, func(t *testing.T) {
		k := testenv.RealKafka(t)
		// Both namespaces have the same length, so a value that embeds its namespace (the fence
		// sources do) compares equal after the name is swapped, even in binary encodings.
		base := testenv.Namespace(t)
		calm := runWithKills(t, k.Brokers(), base+"calm.", hist.Dir, 0, 0)
		killed := runWithKills(t, k.Brokers(), base+"kill.", hist.Dir, kc.rate, kc.kills)
		compareRuns(t, base+"calm.", calm, base+"kill.", killed)
	})
}

// runWithKills replays dir into namespace ns with `shopease run` processing it, kills the group
// `kills` times at random moments while the replay runs (restarting it each time), waits until
// everything is processed, stops the group cleanly and returns every derived topic.
func runWithKills(t *testing.T, brokers []string, ns topology.Namespace, dir string, rate float64, kills int) map[string][]record {
	t.Helper()
	cfg := cluster.Config{Brokers: brokers, Namespace: ns}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, brokers, ns)
	g.start()
	replayed := make(chan error, 1)
	go func() {
		rc := replay.DefaultConfig()
		rc.Paths, rc.Brokers, rc.Namespace, rc.Rate = []string{dir}, brokers, ns, rate
		rc.EndOfInput = true // as `shopease replay` does
		rc.ManifestPath = filepath.Join(t.TempDir(), "manifest.json")
		rc.RejectsPath = ""
		_, err := replay.Run(context.Background(), rc, nil)
		replayed <- err
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond)
		g.kill()
		t.Logf("%s: SIGKILL %d of %d", ns, i+1, kills)
		g.start()
	}
	if err := <-replayed; err != nil {
		t.Fatalf("replay: %v", err)
	}
	// How long the group may take to reach lag 0 after the replay: this test checks exactness,
	// never speed (make bench does). On the shared 2-core machine under load 8–13 the realtime
	// processor took 3–5 min over generate.Small (~100k rows) after 5 kills.
	quiesce(t, g, 8*time.Minute)
	g.stop()
	return dumpTopics(t, brokers, ns)
}

// compareRuns requires the killed run's tables (last value per key) to equal the calm run's, and
// its outputs to hold the same distinct records (a repeat after a crash is the same record).
func compareRuns(t *testing.T, nsA topology.Namespace, a map[string][]record, nsB topology.Namespace, b map[string][]record) {
	t.Helper()
	strip := func(ns topology.Namespace, m map[string][]record) map[string][]record {
		out := map[string][]record{}
		for k, v := range m {
			recs := make([]record, len(v))
			for i, r := range v {
				recs[i] = record{key: strings.ReplaceAll(r.key, string(ns), "NS."),
					value:  strings.ReplaceAll(r.value, string(ns), "NS."),
					origin: strings.ReplaceAll(r.origin, string(ns), "NS.")}
			}
			out[k[len(ns):]] = recs
		}
		return out
	}
	a, b = strip(nsA, a), strip(nsB, b)
	for _, name := range sortedKeys(a) {
		if _, ok := b[name]; !ok {
			t.Errorf("%s: missing after the kills", name)
		}
	}
	tables := 0
	for _, name := range sortedKeys(b) {
		ra, ok := a[name]
		if !ok {
			t.Errorf("%s: only in the killed run", name)
			continue
		}
		rb := b[name]
		if len(name) > 6 && name[len(name)-6:] == "-table" {
			tables++
			sa, sb := tableState(ra), tableState(rb)
			diffs := 0
			for _, k := range sortedKeys(sa) {
				if sb[k] != sa[k] && diffs < 5 {
					diffs++
					t.Errorf("%s key %q: killed run %q, calm run %q", name, k, sb[k], sa[k])
				}
			}
			if len(sa) != len(sb) {
				t.Errorf("%s: %d keys after the kills, %d in the calm run", name, len(sb), len(sa))
			}
			continue
		}
		if strings.HasSuffix(name, "-loop") {
			continue // goka's loop topics are a processor's internal plumbing; what it keeps is compared as its table
		}
		if name == string(topology.DeadLetter) {
			continue // the raw dead-letter topic carries wall-clock times; its records are compared by origin below
		}
		da, db := distinct(ra), distinct(rb)
		if len(da) != len(db) {
			t.Errorf("%s: %d distinct records after the kills, %d in the calm run", name, len(db), len(da))
		}
		missing := 0
		for r := range da {
			if !db[r] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d records of the calm run missing after the kills", name, missing)
			logMissing(t, name, da, db)
		}
	}
	if tables < 4 {
		t.Errorf("compared %d tables, want the 4 of `shopease run`", tables)
	}
}

// logMissing logs (diagnostics) up to 10 records of the calm run missing after the kills, each
// with the killed run's records of the same key: whether the record is absent or differs.
func logMissing(t *testing.T, name string, calm, killed map[record]bool) {
	t.Helper()
	byKey := map[string][]record{}
	for r := range killed {
		byKey[r.key] = append(byKey[r.key], r)
	}
	var missing []record
	for r := range calm {
		if !killed[r] {
			missing = append(missing, r)
		}
	}
	slices.SortFunc(missing, func(a, b record) int { return strings.Compare(a.origin+a.key+a.value, b.origin+b.key+b.value) })
	sameKey := 0
	for _, r := range missing {
		if len(byKey[r.key]) > 0 {
			sameKey++
		}
	}
	t.Logf("%s: %d missing records, %d of them with a record of the same key after the kills", name, len(missing), sameKey)
	for i, r := range missing {
		if i == 10 {
			break
		}
		t.Logf("%s missing: origin %s value %s", name, r.origin, r.value)
		for _, k := range byKey[r.key] {
			t.Logf("%s   killed run, same key: origin %s value %s", name, k.origin, k.value)
		}
	}
}
