//go:build unix

package codecs_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used. The benchmarks report it per operation besides
// wall time, because on the shared 2-core machine wall time mostly measures the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
