package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopease/shopease/processors/topology"
)

// testKey is the pseudonymization key of every run in this package; the tests recompute
// pseudonyms with it independently of the code under test.
const testKey = "v7:8c0f3b6e9a4d21f75e0c6b3a9d8e7f1023456789abcdef0fedcba9876543210a"

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shopease-systemtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "shopease")
	build := exec.Command("go", "build", "-o", binary, "../cmd/shopease")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build shopease:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one `shopease run` process. Its output is kept in memory for the log checks and is
// written to the test log when the test fails.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// output returns everything the process wrote so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// group is the `shopease run` processor group of one test, started and killed in turns; logs
// holds the output of every process it started.
type group struct {
	t       *testing.T
	brokers []string
	ns      topology.Namespace
	dataDir string
	level   string // --log-level of the processes
	cur     *proc
	logs    []*proc
}

func newGroup(t *testing.T, brokers []string, ns topology.Namespace) *group {
	g := &group{t: t, brokers: brokers, ns: ns, dataDir: t.TempDir(), level: "info"}
	t.Cleanup(func() {
		g.kill()
		if t.Failed() {
			for i, p := range g.logs {
				t.Logf("--- output of shopease run #%d:\n%s", i+1, p.output())
			}
		}
	})
	return g
}

func (g *group) start() {
	g.t.Helper()
	p := &proc{done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "run", "--brokers", strings.Join(g.brokers, ","), "--namespace", string(g.ns),
		"--data-dir", g.dataDir, "--partitions", "4", "--log-level", g.level,
		"--redis", "") // tables and topics are compared here; Redis values are realtime's own tests' job
	p.cmd.Env = append(os.Environ(), "SHOPEASE_PSEUDONYM_KEY="+testKey)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	g.cur = p
	g.logs = append(g.logs, p)
}

// kill ends the current process with SIGKILL: no offset commit, no store close.
func (g *group) kill() {
	if g.cur == nil {
		return
	}
	_ = g.cur.cmd.Process.Signal(syscall.SIGKILL)
	<-g.cur.done
	g.cur = nil
}

// stop ends the current process with SIGINT and requires a clean exit within 60 s.
func (g *group) stop() {
	g.t.Helper()
	if g.cur == nil {
		return
	}
	p := g.cur
	g.cur = nil
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.done:
		if err != nil {
			g.t.Fatalf("shopease run did not exit cleanly on SIGINT: %v\n%s", err, p.output())
		}
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		g.t.Fatalf("shopease run did not stop within 60 s of SIGINT")
	}
}

// running fails the test when the current process has exited by itself.
func (g *group) running() {
	g.t.Helper()
	select {
	case err := <-g.cur.done:
		g.cur.done <- err // for kill at cleanup, which waits for it
		g.t.Fatalf("shopease run exited by itself: %v\n%s", err, g.cur.output())
	default:
	}
}

// allLogs is the output of every process of the group.
func (g *group) allLogs() string {
	var b strings.Builder
	for _, p := range g.logs {
		b.WriteString(p.output())
	}
	return b.String()
}

// waitCtx is a context for waits that may take long on a loaded 2-core machine.
func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
