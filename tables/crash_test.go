package tables

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The crash tests drive a storage the way goka does — a recovery phase (Update then SetOffset per
// changelog record, then MarkRecovered) and a running phase (Set, then SetOffset) — on Pebble's
// crashable in-memory file system, and take crash images with MemFS.CrashClone: every synced byte
// plus a random share of the unsynced ones (pebble/v2 replaced v1's vfs.NewStrictMem and
// ResetToSyncedState with NewCrashableMem and CrashClone). Each image is opened like a restarted
// processor would, and must hold the state after some prefix of the records, with a stored offset
// that is never ahead of that prefix.

// crashWorkload is one deterministic changelog: record i (offset i) sets key k%keys to "i", or
// deletes it.
type crashWorkload struct {
	records     int
	recoveryEnd int // records [0, recoveryEnd) are applied before MarkRecovered
	keys        int
	deleteEvery int
}

func (w crashWorkload) apply(i int, state map[string]string) {
	k := fmt.Sprintf("k%03d", (i*7)%w.keys)
	if i%w.deleteEvery == w.deleteEvery-1 {
		delete(state, k)
	} else {
		state[k] = fmt.Sprint(i)
	}
}

// prefixes maps the fingerprint of the state after p records to every such p.
func (w crashWorkload) prefixes() map[uint64][]int {
	state := map[string]string{}
	out := map[uint64][]int{fingerprint(state): {0}}
	for i := range w.records {
		w.apply(i, state)
		fp := fingerprint(state)
		out[fp] = append(out[fp], i+1)
	}
	return out
}

func fingerprint(state map[string]string) uint64 {
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(state)) {
		fmt.Fprintf(h, "%s=%s;", k, state[k])
	}
	return h.Sum64()
}

// crashImage is a crash clone and the bounds the writer knew when it was taken: records
// [0, synced) were durable, and no record at or after maxRecords had started.
type crashImage struct {
	fs         *vfs.MemFS
	synced     int
	maxRecords int
	exact      bool // taken between records with everything written: the image must hold all of them
	desc       string
}

func TestCrashRecoveryKeepsAPrefixAndOffsetNeverAhead(t *testing.T) {
	start := time.Now()
	type tcase struct {
		policy SyncPolicy
		batch  int
		seed   uint64
	}
	var cases []tcase
	seeds := uint64(20)
	if raceEnabled {
		seeds = 3
	}
	for seed := range seeds {
		policy := []SyncPolicy{SyncOnOffset, SyncEveryWrite, SyncNever}[seed%3]
		batch := []int{512, 2 << 10, 64 << 10}[seed/3%3]
		cases = append(cases, tcase{policy, batch, seed})
	}
	w := crashWorkload{records: 3000, recoveryEnd: 1800, keys: 97, deleteEvery: 11}
	prefixes := w.prefixes()
	images := 0
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/batch%d/seed%d", tc.policy, tc.batch, tc.seed), func(t *testing.T) {
			imgs := runCrashWorkload(t, w, tc.policy, tc.batch, tc.seed)
			for _, img := range imgs {
				checkCrashImage(t, w, prefixes, img)
			}
			images += len(imgs)
		})
	}
	t.Logf("%d crash images checked in %s", images, time.Since(start).Round(time.Millisecond))
}

// runCrashWorkload writes w and returns crash images taken at record boundaries (with exact
// durability expectations) and concurrently at random moments (mid-write).
func runCrashWorkload(t *testing.T, w crashWorkload, policy SyncPolicy, batch int, seed uint64) []crashImage {
	rng := rand.New(rand.NewPCG(seed, 99))
	fs := vfs.NewCrashableMem()
	st, err := Open("db", WithFS(fs), WithCacheSize(1<<20), WithMemTableSize(1<<20),
		WithSyncPolicy(policy), WithOffsetSyncInterval(0), WithRecoveryBatchSize(batch))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		images    []crashImage
		completed atomic.Int64
		synced    atomic.Int64
	)
	clone := func(r *rand.Rand, desc string, exact bool) {
		cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: r.IntN(101), RNG: rand.New(rand.NewPCG(r.Uint64(), 1))}
		dur := int(synced.Load())
		img := crashImage{fs: fs.CrashClone(cfg), synced: dur, exact: exact,
			desc: fmt.Sprintf("%s, %d%% of unsynced data kept", desc, cfg.UnsyncedDataPercent)}
		// A record that started during the clone may be in it, nothing later.
		img.maxRecords = int(completed.Load()) + 1
		mu.Lock()
		images = append(images, img)
		mu.Unlock()
	}

	// Concurrent clones land anywhere, also inside a batch commit or between Set and SetOffset.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		crng := rand.New(rand.NewPCG(seed, 7))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(crng.IntN(2000)) * time.Microsecond):
				clone(crng, "at a random moment", false)
			}
		}
	}()

	boundaries := map[int]bool{w.recoveryEnd: true, w.records: true}
	for range 40 {
		boundaries[1+rng.IntN(w.records-1)] = true
	}
	for i := range w.records {
		if i == w.recoveryEnd {
			if err := st.MarkRecovered(); err != nil {
				t.Fatal(err)
			}
			synced.Store(int64(i))
			clone(rng, "after MarkRecovered", true)
		}
		k := fmt.Sprintf("k%03d", (i*7)%w.keys)
		if i%w.deleteEvery == w.deleteEvery-1 {
			err = st.Delete(k)
		} else {
			err = st.Set(k, []byte(fmt.Sprint(i)))
		}
		if err != nil {
			t.Fatal(err)
		}
		if boundaries[i] && i%3 == 0 {
			clone(rng, fmt.Sprintf("between Set and SetOffset of record %d", i), false)
		}
		if err := st.SetOffset(int64(i)); err != nil {
			t.Fatal(err)
		}
		completed.Store(int64(i + 1))
		if i >= w.recoveryEnd && policy != SyncNever {
			synced.Store(int64(i + 1)) // every offset write syncs (interval 0), SyncEveryWrite too
		}
		if boundaries[i+1] {
			clone(rng, fmt.Sprintf("after record %d", i), true)
		}
	}
	close(stop)
	wg.Wait()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return images
}

// checkCrashImage reopens an image and looks for a prefix p of the records that explains it:
// the data equals the state after records [0, p), the offset is at most p-1 (never ahead of the
// data), p is within what was durable and what had started, and while recovering (p up to
// recoveryEnd) the offset is exactly p-1, because recovery commits data and offset in one batch.
func checkCrashImage(t *testing.T, w crashWorkload, prefixes map[uint64][]int, img crashImage) {
	t.Helper()
	st, err := Open("db", WithFS(img.fs), WithCacheSize(0), WithMemTableSize(1<<20))
	if err != nil {
		t.Fatalf("%s: reopen: %v", img.desc, err)
	}
	defer st.Close()
	off, err := st.GetOffset(-1)
	if err != nil {
		t.Fatalf("%s: GetOffset: %v", img.desc, err)
	}
	it, err := st.Iterator()
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for it.Next() {
		v, _ := it.Value()
		state[string(it.Key())] = string(v)
	}
	it.Release()

	candidates := prefixes[fingerprint(state)]
	if len(candidates) == 0 {
		t.Fatalf("%s: recovered %d keys that are no prefix of the writes (offset %d)", img.desc, len(state), off)
	}
	for _, p := range candidates {
		explained := p >= img.synced && p <= img.maxRecords && off <= int64(p-1) &&
			(p > w.recoveryEnd || off == int64(p-1))
		if explained && img.exact && img.synced == img.maxRecords-1 {
			explained = p == img.synced && off == int64(p-1) // everything was synced: nothing may be lost
		}
		if explained {
			return
		}
	}
	t.Fatalf("%s: state after one of %v records, offset %d; durable %d, started %d",
		img.desc, candidates, off, img.synced, img.maxRecords)
}
