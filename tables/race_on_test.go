//go:build race

package tables

// raceEnabled shrinks the crash test under the race detector, which slows CrashClone ~100×.
const raceEnabled = true
