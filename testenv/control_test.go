package testenv_test

import (
	"syscall"
	"testing"

	"github.com/shopease/shopease/testenv"
)

// TestRealControl checks that fault tests can find the real servers' processes; it sends only
// signal 0 (an existence check), since other suites share the servers during `make test`.
func TestRealControl(t *testing.T) {
	tests := []struct {
		name    string
		control func(testing.TB) *testenv.RealControl
		require func(testing.TB)
	}{
		{"kafka", testenv.RealKafkaControlFor, func(t testing.TB) { testenv.RealKafka(t) }},
		{"redis", testenv.RealRedisControlFor, func(t testing.TB) { testenv.RealRedis(t) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.require(t) // skips or fails as every real test does when the server is not running
			c := tc.control(t)
			pid, err := c.PID()
			if err != nil || pid <= 1 {
				t.Fatalf("%s pid = %d, %v; want the pid in %s", c.Name, pid, err, c.PIDFile)
			}
			if err := c.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("%s process %d is not alive: %v", c.Name, pid, err)
			}
		})
	}
}
