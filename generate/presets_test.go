package generate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestPresetSizes checks that each preset writes the number of rows its doc promises. Large is
// checked on its first four days, scaled to its 60 (days vary by ±10 %; the full run, measured by
// BenchmarkGenerate/large, writes 10.35M rows).
func TestPresetSizes(t *testing.T) {
	medium := Medium()
	medium.SessionsPerDay, medium.TargetEvents, medium.Days = medium.sessionsPerDay(), 0, 3
	large := Large()
	large.SessionsPerDay, large.TargetEvents, large.Days = large.sessionsPerDay(), 0, 4
	cases := []struct {
		name     string
		cfg      Config
		scale    float64
		min, max int64
		within   time.Duration
	}{
		{"tiny", Tiny(), 1, 2_000, 10_000, time.Second},
		{"small", Small(), 1, 90_000, 110_000, 10 * time.Second},
		{"medium", medium, 10, 900_000, 1_150_000, 20 * time.Second},
		{"large", large, 15, 10_000_000, 12_000_000, time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Dir = t.TempDir()
			began := time.Now()
			tr, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(began)
			rows := int64(float64(tr.TotalRows()) * tc.scale)
			t.Logf("%s: %d rows (%d written) in %v", tc.name, rows, tr.TotalRows(), el)
			if rows < tc.min || rows > tc.max {
				t.Errorf("%s: %d rows, want %d..%d", tc.name, rows, tc.min, tc.max)
			}
			if el > tc.within {
				t.Errorf("%s: took %v, want < %v", tc.name, el, tc.within)
			}
		})
	}
}

// TestDeterministic generates the same config with different worker counts and GOMAXPROCS and
// compares every file's hash; another seed must change the files.
func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"tiny", Tiny()},
		{"tiny gzip arrays", func() Config {
			c := Tiny()
			c.Gzip, c.ActivityForm, c.FeedbackForm = true, FormArray, FormArray
			return c
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(seed uint64, workers, procs int) map[string]string {
				prev := runtime.GOMAXPROCS(procs)
				defer runtime.GOMAXPROCS(prev)
				cfg := tc.cfg
				cfg.Seed, cfg.Workers, cfg.Dir = seed, workers, t.TempDir()
				if _, err := Run(context.Background(), cfg, nil); err != nil {
					t.Fatal(err)
				}
				return hashes(t, cfg.Dir)
			}
			a := run(7, 1, 1)
			b := run(7, 3, 2)
			c := run(7, 0, 2)
			if len(a) != 3*4+1 {
				t.Fatalf("%d files, want 13: %v", len(a), a)
			}
			for name, h := range a {
				if b[name] != h || c[name] != h {
					t.Errorf("%s differs between runs: %s %s %s", name, h, b[name], c[name])
				}
			}
			other := run(8, 0, 2)
			for name, h := range a {
				if other[name] == h && name != "feedback/2024-02-28.ndjson" && name != "feedback/2024-02-28.json.gz" {
					t.Errorf("%s is the same under another seed", name)
				}
			}
		})
	}
}

// TestOverwrite: a second Run into the same dir fails unless Overwrite is set, and then leaves no
// file of the earlier, longer history.
func TestOverwrite(t *testing.T) {
	cfg := Tiny()
	cfg.Dir = t.TempDir()
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Days = 1
	if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrOutputExists) {
		t.Fatalf("second Run = %v, want ErrOutputExists", err)
	}
	cfg.Overwrite = true
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(hashes(t, cfg.Dir)); n != 4+1 {
		t.Fatalf("%d files after overwrite, want 5", n)
	}
}

// TestCleanData: Scaled(0) writes no dirt at all: every row is accepted.
func TestCleanData(t *testing.T) {
	cfg := Tiny()
	cfg.Dir, cfg.Dirt = t.TempDir(), cfg.Dirt.Scaled(0)
	tr, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ds, d := range tr.Datasets {
		if d.Rows == 0 || d.Accepted != d.Rows || d.Sent != d.Rows {
			t.Errorf("%s: %d rows, %d sent, %d accepted", ds, d.Rows, d.Sent, d.Accepted)
		}
	}
}

func hashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:8])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
