//go:build faults

package systemtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// The fault suite (issue 11) compares every run with an undisturbed run of the same input. The
// comparison swaps namespaces inside values (fence sources embed them, also in binary encodings),
// so every namespace of the suite has the same length: "t.flt.<8 hex>.<4-char tag>.". One
// undisturbed run per history and broker is enough for the whole test binary.
var suiteID = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// faultNS returns the namespace of one run of the suite; tag must be 4 characters of [a-z0-9].
func faultNS(t *testing.T, tag string) topology.Namespace {
	t.Helper()
	if len(tag) != 4 {
		t.Fatalf("namespace tag %q: want 4 characters (every namespace of the suite has one length)", tag)
	}
	return topology.Namespace("t.flt." + suiteID + "." + tag + ".")
}

// calmRuns caches the undisturbed run of a history on a broker: key "brokers|seed|days".
var calmRuns = struct {
	sync.Mutex
	m map[string]calmRun
}{m: map[string]calmRun{}}

type calmRun struct {
	ns     topology.Namespace
	topics map[string][]record
}

// calm returns the undisturbed run of hist (already generated in hist.Dir) on brokers: the raw
// topics filled by one replay, `shopease run` until every group has caught up, every derived topic.
func calm(t *testing.T, brokers []string, hist generate.Config) calmRun {
	t.Helper()
	key := fmt.Sprintf("%s|%d|%d|%d", strings.Join(brokers, ","), hist.Seed, hist.Days, hist.Users)
	calmRuns.Lock()
	defer calmRuns.Unlock()
	if c, ok := calmRuns.m[key]; ok {
		return c
	}
	ns := faultNS(t, fmt.Sprintf("cl%02d", len(calmRuns.m)))
	start := time.Now()
	c := calmRun{ns: ns, topics: runWithKills(t, brokers, ns, hist.Dir, 0, 0)}
	t.Logf("undisturbed run of the %d-day history in %s: %s", hist.Days, ns, time.Since(start).Round(time.Second))
	calmRuns.m[key] = c
	return c
}

// generated writes hist into a fresh temp dir and returns it with Dir set.
func generated(t *testing.T, hist generate.Config) generate.Config {
	t.Helper()
	hist.Dir = t.TempDir()
	if _, err := generate.Run(context.Background(), hist, nil); err != nil {
		t.Fatal(err)
	}
	return hist
}

// cliResult is what one shopease command printed and how it exited.
type cliResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// shopease runs one shopease command to completion (at most d) and returns its output and exit
// code; a command still running after d fails the test.
func shopease(t *testing.T, d time.Duration, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cmd.Environ(), "SHOPEASE_PSEUDONYM_KEY="+testKey)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("shopease %s: still running after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), d, r.stdout, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("shopease %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// replayArgs is the command line of `shopease replay` into ns with the given manifest and rejects
// files (both always explicit: the defaults are in the working directory).
func replayArgs(brokers []string, ns topology.Namespace, manifest, rejects string, paths ...string) []string {
	args := []string{"replay", "--brokers", strings.Join(brokers, ","), "--namespace", string(ns),
		"--manifest", manifest, "--rejects", rejects, "--log-level", "warn"}
	return append(args, paths...)
}

// replayTotals are the numbers of the "total" row of replay's summary.
type replayTotals struct {
	files, read, sent, rejected, skipped, lost int64
	reasons                                    string
}

// totals parses the "total" row of `shopease replay`'s summary:
// total FILES READ SENT REJECTED SKIPPED LOST REASONS.
func totals(t *testing.T, r cliResult) replayTotals {
	t.Helper()
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "total" {
			continue
		}
		var n [6]int64
		for i := range n {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				t.Fatalf("replay summary: total row %q: %v", line, err)
			}
			n[i] = v
		}
		return replayTotals{n[0], n[1], n[2], n[3], n[4], n[5], strings.Join(f[7:], " ")}
	}
	t.Fatalf("replay printed no total row (exit %d)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	return replayTotals{}
}

// timed logs how long a case step took, for docs/reliability.md's time column.
func timed(t *testing.T, what string) func() {
	start := time.Now()
	return func() { t.Logf("%s took %s", what, time.Since(start).Round(100*time.Millisecond)) }
}

// startRun creates the raw topics of ns (4 partitions, as runWithKills) and starts one
// `shopease run` on them.
func startRun(t *testing.T, brokers []string, ns topology.Namespace) *group {
	t.Helper()
	cfg := cluster.Config{Brokers: brokers, Namespace: ns}
	if _, err := cfg.EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, brokers, ns)
	g.start()
	return g
}

// finishRun waits until g has processed everything (at most d), stops it cleanly and returns
// every derived topic of its namespace.
func finishRun(t *testing.T, g *group, d time.Duration) map[string][]record {
	t.Helper()
	quiesce(t, g, d)
	g.stop()
	return dumpTopics(t, g.brokers, g.ns)
}

// deadLetters returns the records of ns's dead-letter topic, decoded.
func deadLetters(t *testing.T, brokers []string, ns topology.Namespace) []*event.DeadLetter {
	t.Helper()
	var out []*event.DeadLetter
	for _, r := range testenv.ReadTopic(t, brokers, string(ns.Stream(topology.DeadLetter))) {
		d, err := codecs.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("dead letter at %s/%d/%d does not decode: %v", r.Topic, r.Partition, r.Offset, err)
		}
		out = append(out, d)
	}
	return out
}

// rejectLine is the part of a line of replay's rejects file (NDJSON) that the suite checks.
type rejectLine struct {
	File   string       `json:"file"`
	Line   int64        `json:"line"`
	Reason event.Reason `json:"reason"`
	Detail string       `json:"detail"`
}

// readRejects reads replay's local rejects file.
func readRejects(t *testing.T, path string) []rejectLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("rejects file: %v", err)
	}
	var out []rejectLine
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var l rejectLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("rejects file line %d: %v", i+1, err)
		}
		out = append(out, l)
	}
	return out
}
