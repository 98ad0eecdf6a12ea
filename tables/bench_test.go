package tables_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb"

	"github.com/shopease/shopease/tables"
)

// The benchmarks compare the three stores on the two write paths goka uses, without Kafka:
//
//   - SetWithOffset: a running processor — Set(key, value) then SetOffset, after MarkRecovered.
//   - RecoveryIngest: a changelog restore — Set then SetOffset per record between Open and
//     MarkRecovered, MarkRecovered (the final commit and sync) included in the time.
//
// Run: go test -run '^$' -bench . -benchtime 2000000x -count 3 ./tables/
// Besides ns/op (wall time) each benchmark reports records/s and cpu-ns/op: the process's user+system
// CPU time per record, background compactions included. On this shared 2-core machine wall time
// depends on what else runs; CPU time much less so.
//
// Keys cycle through benchKeys distinct keys, values are 100 bytes. goka's memory store re-sorts its
// whole key list on every new key, so it gets memoryKeys distinct keys instead; a million would not
// finish.
const (
	benchKeys  = 1_000_000
	memoryKeys = 10_000
	valueSize  = 100
)

type benchStore struct {
	name string
	keys int
	open func(b *testing.B) storage.Storage
}

func benchStores() []benchStore {
	return []benchStore{
		{"memory", memoryKeys, func(*testing.B) storage.Storage { return storage.NewMemory() }},
		{"leveldb", benchKeys, func(b *testing.B) storage.Storage {
			db, err := leveldb.OpenFile(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			st, err := storage.New(db)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"pebble", benchKeys, func(b *testing.B) storage.Storage {
			st, err := tables.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
}

func benchKeyList(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%08d", (i*7919)%n) // not in key order, like hashed ids
	}
	return keys
}

func BenchmarkSetWithOffset(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) {
			keys := benchKeyList(s.keys)
			value := make([]byte, valueSize)
			st := s.open(b)
			defer st.Close()
			if err := st.Open(); err != nil {
				b.Fatal(err)
			}
			if err := st.MarkRecovered(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				value[0] = byte(i)
				if err := st.Set(keys[i%len(keys)], value); err != nil {
					b.Fatal(err)
				}
				if err := st.SetOffset(int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRates(b, cpu0)
		})
	}
}

func BenchmarkRecoveryIngest(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) {
			keys := benchKeyList(s.keys)
			value := make([]byte, valueSize)
			st := s.open(b)
			defer st.Close()
			b.ResetTimer()
			cpu0 := cpuTime()
			if err := st.Open(); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				value[0] = byte(i)
				if err := st.Set(keys[i%len(keys)], value); err != nil {
					b.Fatal(err)
				}
				if err := st.SetOffset(int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := st.MarkRecovered(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reportRates(b, cpu0)
		})
	}
}

func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
