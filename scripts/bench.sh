#!/usr/bin/env bash
# `make bench`: the performance benchmarks against a REAL Kafka broker and redis-server (started and
# stopped here, as in scripts/test.sh), then docs/benchmarks.md rewritten from the results.
#
# Env: BENCH_COUNT  runs per benchmark (default 3; the report takes medians)
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out=artifacts/bench
mkdir -p "$out"
count="${BENCH_COUNT:-3}"

bash testenv/real.sh start || { KEEP_LOGS=1 bash testenv/real.sh stop; exit 1; }
eval "$(bash testenv/real.sh env)"
trap 'bash testenv/real.sh stop' EXIT

rc=0
# bench NAME PATTERN PACKAGE: one go benchmark, its output kept for the report.
bench() {
  echo "== $1: go test -bench '$2' -count $count $3"
  go test -run '^$' -bench "$2" -benchtime 1x -count "$count" -timeout 60m "$3" | tee "$out/$1.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
}

# Issue 3: goka's changelog restore (a View recovering 1M records) into memory, LevelDB, Pebble.
bench restore 'ChangelogRestore/real' ./tables/

# Issue 8: restore of a 1M-key table, snapshot + 1% changelog tail vs changelog-only (goka's path).
bench snapshot 'SnapshotRestore' ./bench/

# Issue 4: a generated ~1M-row history replayed into the real broker; every topic's count is
# checked against the generator's truth on each run (the benchmark fails otherwise).
bench replay1m 'ReplayGenerated1M' ./replay/

# Issues 4 and 12.2: replay vs Apache Kafka's kafka-producer-perf-test, same broker, same record
# size, alternating runs (the ratio is taken within this run).
echo "== replay vs kafka-producer-perf-test ($count paired runs)"
PERF_PAIRED=1 bash scripts/perftest.sh "$count" | tee "$out/perf.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1

go run ./bench/cmd/benchreport -o docs/benchmarks.md "$out"/*.txt || rc=1
echo "docs/benchmarks.md rewritten"
exit "$rc"
