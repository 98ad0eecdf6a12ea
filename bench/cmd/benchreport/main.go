// Command benchreport rewrites docs/benchmarks.md from benchmark output files:
//
//	go run ./bench/cmd/benchreport -o docs/benchmarks.md artifacts/bench/*.txt
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/shopease/shopease/bench/report"
)

// targets are the issues' performance goals; each names the benchmark that measures it.
var targets = []report.Target{
	{What: "changelog restore of 1M records into Pebble (real Kafka)", Bench: "BenchmarkChangelogRestore/real/pebble", Unit: "records/s", Min: 300_000,
		Command: "go test -run '^$' -bench 'ChangelogRestore/real' -benchtime 1x -count 3 ./tables"},
	{What: "Pebble restore vs goka's LevelDB (same run)", Bench: "BenchmarkChangelogRestore/real/pebble", Versus: "BenchmarkChangelogRestore/real/leveldb", Unit: "records/s", Min: 1,
		Command: "go test -run '^$' -bench 'ChangelogRestore/real' -benchtime 1x -count 3 ./tables"},
	{What: "restore of a 1M-key table (1 record per key): snapshot + 1% tail vs changelog-only", Bench: "BenchmarkSnapshotRestore/updates=1/changelog-only", Versus: "BenchmarkSnapshotRestore/updates=1/snapshot+tail", Unit: "s/restore", Min: 10,
		Command: "go test -run '^$' -bench SnapshotRestore -benchtime 1x -count 3 ./bench"},
	{What: "restore of a 1M-key table (10 records per key): snapshot + 1% tail vs changelog-only", Bench: "BenchmarkSnapshotRestore/updates=10/changelog-only", Versus: "BenchmarkSnapshotRestore/updates=10/snapshot+tail", Unit: "s/restore", Min: 10,
		Command: "go test -run '^$' -bench SnapshotRestore -benchtime 1x -count 3 ./bench"},
	{What: "replay of a generated 1M-row history into real Kafka (counts checked against its truth)", Bench: "BenchmarkReplayGenerated1M", Unit: "rows/s", Min: 1,
		Command: "go test -run '^$' -bench ReplayGenerated1M -benchtime 1x -count 3 ./replay"},
	{What: "replay vs kafka-producer-perf-test (same broker, record size, acks, lz4, batching)", Bench: "BenchmarkReplayPerfCompare", Versus: "BenchmarkKafkaProducerPerfTest", Unit: "records/s", Min: 0.7,
		Command: "PERF_PAIRED=1 bash scripts/perftest.sh 3"},
}

func main() {
	out := flag.String("o", "docs/benchmarks.md", "report to write")
	flag.Parse()
	all := map[string]*report.Result{}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		res, err := report.Parse(f)
		f.Close()
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		for name, r := range res {
			if prev, ok := all[name]; ok {
				for u, vs := range r.Metrics {
					prev.Metrics[u] = append(prev.Metrics[u], vs...)
				}
				continue
			}
			all[name] = r
		}
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		fail(err)
	}
	if err := report.Write(f, machine(), time.Now().UTC().Format("2006-01-02 15:04 MST"), all, targets); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fail(err)
	}
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchreport:", err)
	os.Exit(1)
}
