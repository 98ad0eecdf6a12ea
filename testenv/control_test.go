package testenv_test

import (
	"syscall"
	"testing"

	"github.com/shopease/shopease/testenv"
)

// TestRealKafkaControl checks that fault tests can find the real broker's process; it sends only
// signal 0 (an existence check), since other suites share the broker during `make test`.
func TestRealKafkaControl(t *testing.T) {
	testenv.RealKafka(t) // skips or fails as every real test does when no broker runs
	c := testenv.RealKafkaControlFor(t)
	pid, err := c.PID()
	if err != nil || pid <= 1 {
		t.Fatalf("broker pid = %d, %v; want the pid in %s", pid, err, c.PIDFile)
	}
	if err := c.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("broker process %d is not alive: %v", pid, err)
	}
}
