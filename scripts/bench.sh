#!/usr/bin/env bash
# `make bench`: the performance benchmarks against a REAL Kafka broker and redis-server (started and
# stopped here, as in scripts/test.sh), then docs/benchmarks.md rewritten from the results.
#
# Env: BENCH_COUNT  runs per benchmark (default 3; the report takes medians)
#      BENCH        go test -bench pattern (default .)
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out=artifacts/bench
mkdir -p "$out"
count="${BENCH_COUNT:-3}"

bash testenv/real.sh start || { KEEP_LOGS=1 bash testenv/real.sh stop; exit 1; }
eval "$(bash testenv/real.sh env)"
trap 'bash testenv/real.sh stop' EXIT

echo "== go benchmarks (count $count) =="
go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -count "$count" -timeout 60m ./bench/ | tee "$out/go.txt"
rc=${PIPESTATUS[0]}

go run ./bench/cmd/benchreport -o docs/benchmarks.md "$out"/*.txt || rc=1
echo "docs/benchmarks.md rewritten"
exit "$rc"
