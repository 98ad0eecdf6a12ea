//go:build faults

package systemtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/testenv"
)

// privateBroker is a Kafka broker of this test binary alone, started by testenv/real.sh with its
// own state dir and ports: case 2 stops and kills it, which the shared servers of the other tests
// must never see. SHOPEASE_FAULTS_KAFKA_RUN and SHOPEASE_FAULTS_KAFKA_PORT (default
// /tmp/faults-kafka and 23092; the controller and Redis use the ports above it) move it.
type privateBroker struct {
	env     []string
	brokers []string
	ctl     *testenv.RealControl
}

func startPrivateBroker(t *testing.T) *privateBroker {
	t.Helper()
	run := envOr("SHOPEASE_FAULTS_KAFKA_RUN", "/tmp/faults-kafka")
	port := envOr("SHOPEASE_FAULTS_KAFKA_PORT", "23092")
	p := &privateBroker{
		env: append(os.Environ(), "SHOPEASE_TESTENV_RUN="+run, "SHOPEASE_KAFKA_PORT="+port,
			"SHOPEASE_KAFKA_CONTROLLER_PORT="+portPlus(t, port, 1), "SHOPEASE_REDIS_PORT="+portPlus(t, port, 287)),
		brokers: []string{"127.0.0.1:" + port},
		ctl:     &testenv.RealControl{Name: "private Kafka broker", PIDFile: filepath.Join(run, "kafka", "kafka.pid"), Script: "../testenv/real.sh"},
	}
	t.Cleanup(func() {
		_ = p.ctl.Signal(syscall.SIGCONT) // a failed test may leave it stopped
		if out, err := p.script("stop"); err != nil {
			t.Logf("stop the private broker: %v\n%s", err, out)
		}
	})
	if out, err := p.script("start"); err != nil {
		t.Fatalf("start the private broker: %v\n%s", err, out)
	}
	return p
}

// script runs real.sh with the private broker's environment (never the shared servers').
func (p *privateBroker) script(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", p.ctl.Script, cmd)
	c.Env = p.env
	out, err := c.CombinedOutput()
	return string(out), err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func portPlus(t *testing.T, port string, n int) string {
	t.Helper()
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port %q: %v", port, err)
	}
	return strconv.Itoa(p + n)
}

// TestFaultBrokerStopAndKill (issue 11 case 2): on a broker of its own, while a history is being
// replayed (by the binary, paced so that it lasts) and processed, the broker is frozen with
// SIGSTOP for 30 s, resumed, and later killed with SIGKILL and started again on its data. Replay
// and `shopease run` must each ride through or exit with a clear error; a replay that exited is
// run again (it resumes without duplicates) and a run that exited is started again. The tables and
// outputs then equal an undisturbed run's on the same broker.
func TestFaultBrokerStopAndKill(t *testing.T) {
	defer timed(t, "case 2")()
	pb := startPrivateBroker(t)
	hist := generated(t, generate.Tiny())
	ref := calm(t, pb.brokers, hist)
	ns := faultNS(t, "c2bk")
	g := startRun(t, pb.brokers, ns)
	manifest := filepath.Join(t.TempDir(), "m.json")
	args := replayArgs(pb.brokers, ns, manifest, "", hist.Dir)
	replayed := make(chan cliResult, 1)
	go func() { replayed <- shopease(t, 10*time.Minute, append(args, "--rate", "100")...) }()

	time.Sleep(8 * time.Second)
	if err := pb.ctl.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Logf("case 2: broker frozen (SIGSTOP)")
	time.Sleep(30 * time.Second)
	if err := pb.ctl.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("case 2: broker resumed after 30 s (SIGCONT)")
	time.Sleep(8 * time.Second)
	if err := pb.ctl.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("case 2: broker killed (SIGKILL)")
	time.Sleep(2 * time.Second)
	restart := time.Now()
	if out, err := pb.script("start"); err != nil {
		t.Fatalf("restart the killed broker: %v\n%s", err, out)
	}
	t.Logf("case 2: broker answers again %s after the restart began", time.Since(restart).Round(time.Second))

	res := <-replayed
	for try := 1; res.code != 0; try++ {
		if !strings.Contains(res.stderr, "error:") || strings.Contains(res.stderr, "panic:") {
			t.Fatalf("replay exited %d without a clear error:\n%s", res.code, lastLines(res.stderr, 20))
		}
		if try > 3 {
			t.Fatalf("replay still fails after %d resumes:\n%s", try-1, lastLines(res.stderr, 20))
		}
		t.Logf("case 2: replay exited %d with %q; resuming", res.code, lastLines(res.stderr, 1))
		res = shopease(t, 5*time.Minute, args...)
	}
	if exited, out := exitsWithin(g, 0); exited {
		if !strings.Contains(out, "error:") || strings.Contains(out, "panic:") {
			t.Fatalf("shopease run exited without a clear error:\n%s", lastLines(out, 20))
		}
		t.Logf("case 2: shopease run exited with %q; starting it again", lastLines(out, 1))
		g.start()
	} else {
		t.Logf("case 2: shopease run rode through")
	}
	compareRuns(t, ref.ns, ref.topics, ns, finishRun(t, g, 4*time.Minute))
}
