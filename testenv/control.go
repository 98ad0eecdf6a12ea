package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// RealControl lets fault tests stop, kill and restart a real server started by real.sh. The
// servers are shared by every test binary of a `make test` run, so only suites that run alone
// (`make test-faults`) may use anything but signal 0.
type RealControl struct {
	// Name is "Kafka broker" or "redis-server", for messages.
	Name string
	// PIDFile is real.sh's pid file of the server (testenv/run/kafka/kafka.pid,
	// testenv/run/redis/redis.pid by default).
	PIDFile string
	// Script is real.sh; `Script start` starts a killed server again: the broker on its existing
	// log dir, redis-server empty (it runs without persistence).
	Script string
}

// RealKafkaControlFor returns the control of the real broker, from the environment that
// `real.sh env` prints; it skips or fails as RealKafka does when that is missing.
func RealKafkaControlFor(t testing.TB) *RealControl {
	t.Helper()
	return realControl(t, "Kafka broker", EnvKafkaPID)
}

// RealRedisControlFor returns the control of the real redis-server (see RealKafkaControlFor).
func RealRedisControlFor(t testing.TB) *RealControl {
	t.Helper()
	return realControl(t, "redis-server", EnvRedisPID)
}

func realControl(t testing.TB, name, pidEnv string) *RealControl {
	t.Helper()
	c := &RealControl{Name: name, PIDFile: os.Getenv(pidEnv), Script: os.Getenv(EnvScript)}
	if c.PIDFile == "" || c.Script == "" {
		msg := fmt.Sprintf("testenv: %s or %s not set; run under `make test` (or eval \"$(bash testenv/real.sh env)\")", pidEnv, EnvScript)
		if RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return c
}

// PID returns the server's process id.
func (c *RealControl) PID() (int, error) {
	b, err := os.ReadFile(c.PIDFile)
	if err != nil {
		return 0, fmt.Errorf("read %s pid: %w", c.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s pid file %s: %w", c.Name, c.PIDFile, err)
	}
	return pid, nil
}

// Signal sends sig to the server: SIGSTOP freezes it (clients see timeouts, not closed
// connections), SIGCONT resumes it, SIGKILL crashes it (start it again with Start).
func (c *RealControl) Signal(sig syscall.Signal) error {
	pid, err := c.PID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %v to %s %d: %w", sig, c.Name, pid, err)
	}
	return nil
}

// Start starts the killed server again and waits until it answers. A broker restarted after
// SIGKILL takes about 10 s more than a fresh one: its controller first waits out the old
// registration's session (broker.session.timeout.ms, 9 s).
func (c *RealControl) Start(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "bash", c.Script, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s start: %w\n%s", c.Script, err, out)
	}
	return nil
}
