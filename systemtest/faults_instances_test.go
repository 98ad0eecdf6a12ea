//go:build faults

package systemtest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/testenv"
)

// TestFaultThreeInstances (issue 11 case 11): three `shopease run` instances of one namespace,
// each with its own data dir, started, stopped (SIGINT) and killed (SIGKILL) in turns while a
// history is replayed, so the consumer groups rebalance again and again. The tables and outputs
// must equal an undisturbed run's, and no partition may be claimed by two instances in the same
// generation of a group (goka logs every claim: "setup generation N, claims=...").
func TestFaultThreeInstances(t *testing.T) {
	defer timed(t, "case 11")()
	k := testenv.RealKafka(t)
	hist := generated(t, generate.Tiny())
	ref := calm(t, k.Brokers(), hist)
	ns := faultNS(t, "c11i")
	if _, err := (&cluster.Config{Brokers: k.Brokers(), Namespace: ns}).EnsureTopics(4); err != nil {
		t.Fatal(err)
	}
	a, b, c := newGroup(t, k.Brokers(), ns), newGroup(t, k.Brokers(), ns), newGroup(t, k.Brokers(), ns)
	for _, g := range []*group{a, b, c} {
		g.level = "debug" // goka's claims are logged at debug
	}
	a.start()
	replayed := make(chan cliResult, 1)
	go func() {
		args := append(replayArgs(k.Brokers(), ns, filepath.Join(t.TempDir(), "m.json"), "", hist.Dir), "--rate", "250")
		replayed <- shopease(t, 5*time.Minute, args...)
	}()
	steps := []struct {
		what string
		do   func()
	}{
		{"start B", b.start}, {"start C", c.start}, {"SIGKILL B", b.kill}, {"SIGINT A", a.stop},
		{"start B", b.start}, {"SIGKILL C", c.kill}, {"start A", a.start}, {"SIGINT B", b.stop},
		{"start C", c.start},
	}
	for _, s := range steps {
		time.Sleep(3 * time.Second)
		s.do()
		t.Logf("case 11: %s", s.what)
	}
	if res := <-replayed; res.code != 0 {
		t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
	}
	quiesce(t, a, 4*time.Minute)
	c.running()
	c.stop()
	got := finishRun(t, a, time.Minute)
	compareRuns(t, ref.ns, ref.topics, ns, got)
	checkClaims(t, map[string]*group{"A": a, "B": b, "C": c})
}

var (
	claimLine  = regexp.MustCompile(`\[Processor ([^\]]+)\] setup generation (\d+), claims=(.*)$`)
	claimTopic = regexp.MustCompile(`\\?"([^"\\]+)\\?":\[\]int32\{([0-9, ]*)\}`)
)

// checkClaims requires that no two instances claimed the same topic partition in the same
// generation of a consumer group, and that claims were logged at all.
func checkClaims(t *testing.T, instances map[string]*group) {
	t.Helper()
	owner := map[string]string{} // "group gen topic/partition" → instance
	claims, generations := 0, map[string]bool{}
	for name, g := range instances {
		for _, line := range strings.Split(g.allLogs(), "\n") {
			m := claimLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			generations[m[1]+" "+m[2]] = true
			for _, tm := range claimTopic.FindAllStringSubmatch(m[3], -1) {
				for _, p := range strings.Split(tm[2], ",") {
					if p = strings.TrimSpace(p); p == "" {
						continue
					}
					if _, err := strconv.Atoi(p); err != nil {
						t.Fatalf("claim line %q: %v", line, err)
					}
					key := fmt.Sprintf("%s gen %s %s/%s", m[1], m[2], tm[1], p)
					if other, ok := owner[key]; ok && other != name {
						t.Errorf("%s claimed by instances %s and %s at once", key, other, name)
					}
					owner[key] = name
					claims++
				}
			}
		}
	}
	if claims == 0 {
		t.Fatalf("no claim logged by any instance (want goka's \"setup generation N, claims=...\" at debug)")
	}
	t.Logf("case 11: %d partition claims in %d group generations, none by two instances at once", claims, len(generations))
}
