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

// RealKafkaControl lets fault tests stop, kill and restart the real broker started by real.sh.
// The broker is shared by every test binary of a `make test` run, so only suites that run alone
// (`make test-faults`) may use it.
type RealKafkaControl struct {
	// PIDFile is real.sh's pid file of the broker (testenv/run/kafka/kafka.pid by default).
	PIDFile string
	// Script is real.sh; `Script start` restarts a killed broker on its existing log dir.
	Script string
}

// RealKafkaControlFor reads the control paths from the environment that `real.sh env` prints; it
// fails (or skips, as RealKafka does) when they are missing.
func RealKafkaControlFor(t testing.TB) *RealKafkaControl {
	t.Helper()
	c := &RealKafkaControl{PIDFile: os.Getenv(EnvKafkaPID), Script: os.Getenv(EnvScript)}
	if c.PIDFile == "" || c.Script == "" {
		msg := fmt.Sprintf("testenv: %s or %s not set; run under `make test` (or eval \"$(bash testenv/real.sh env)\")", EnvKafkaPID, EnvScript)
		if RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return c
}

// PID returns the broker's process id.
func (c *RealKafkaControl) PID() (int, error) {
	b, err := os.ReadFile(c.PIDFile)
	if err != nil {
		return 0, fmt.Errorf("read broker pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("broker pid file %s: %w", c.PIDFile, err)
	}
	return pid, nil
}

// Signal sends sig to the broker: SIGSTOP freezes it (clients see timeouts, not closed
// connections), SIGCONT resumes it, SIGKILL crashes it (restart with Start).
func (c *RealKafkaControl) Signal(sig syscall.Signal) error {
	pid, err := c.PID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %v to broker %d: %w", sig, pid, err)
	}
	return nil
}

// Start starts the broker again after a kill, on its existing data, and waits until it answers.
func (c *RealKafkaControl) Start(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "bash", c.Script, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s start: %w\n%s", c.Script, err, out)
	}
	return nil
}
