#!/usr/bin/env bash
# `make bench`: the performance benchmarks against a REAL Kafka broker and redis-server (started
# here as in scripts/test.sh; stopped afterwards only if this script started them, since other
# runs may share them), then docs/benchmarks.md rewritten from the results.
#
# Env: BENCH_COUNT          runs per benchmark (default 3; the report takes medians)
#      BENCH_STREAM_EVENTS  rows of the stream benchmark's generated history (default 100000)
#      BENCH_GATEWAY_EVENTS rows of the activity-gateway ceiling benchmark (default 800000)
#      BENCH_BATCH_EVENTS   rows of the batch-vs-Spark history (default 10000000, issue 12's size;
#                           ~15 min for 3 runs of both systems, 5 GB under $TMPDIR)
#      BENCH_ONLY           space-separated subset of: restore snapshot replay1m perf stream
#                           realtime latency batch spark (default: all)
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out=artifacts/bench
mkdir -p "$out"
count="${BENCH_COUNT:-3}"
only="${BENCH_ONLY:-restore snapshot replay1m perf stream realtime latency batch spark}"

started=0
if ! bash testenv/real.sh status >/dev/null 2>&1; then
  started=1
fi
bash testenv/real.sh start || { KEEP_LOGS=1 bash testenv/real.sh stop; exit 1; }
eval "$(bash testenv/real.sh env)"
if [[ "$started" == 1 ]]; then
  trap 'bash testenv/real.sh stop' EXIT
fi

rc=0
wanted() { [[ " $only " == *" $1 "* ]]; }

# load average of the shared machine before each benchmark, kept with its output.
loadavg() { echo "# load average before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# bench NAME PATTERN PACKAGE: one go benchmark, its output kept for the report.
bench() {
  wanted "$1" || return 0
  echo "== $1: go test -bench '$2' -count $count $3"
  { loadavg "$1"; go test -run '^$' -bench "$2" -benchtime 1x -count "$count" -timeout 90m "$3"; } | tee "$out/$1.txt"
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
if wanted perf; then
  echo "== replay vs kafka-producer-perf-test ($count paired runs)"
  { loadavg perf; PERF_PAIRED=1 bash scripts/perftest.sh "$count"; } | tee "$out/perf.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
fi

# Issue 12.1: the whole processor group (sustained events/s to lag 0, probe latency under half
# that load) and the activity gateway alone (goka + sarama's per-message ceiling).
export BENCH_STREAM_EVENTS="${BENCH_STREAM_EVENTS:-100000}" BENCH_GATEWAY_EVENTS="${BENCH_GATEWAY_EVENTS:-800000}" BENCH_BATCH_EVENTS="${BENCH_BATCH_EVENTS:-10000000}"
bench stream '^BenchmarkStream(ActivityGateway)?$' ./bench/

# Issues 7 and 12.5: the realtime processor's Redis commands per event at steady state.
bench realtime '^BenchmarkRealtime$/real' ./processors/realtime/

# Issue 12.1: latency from produce to the Redis value through the whole group, live raw activity
# at a fixed rate.
bench latency '^BenchmarkStreamRedisLatency$' ./bench/

# Issue 12.4: the historical job by shopease and by PySpark (local[2]) on the same files.
if wanted batch; then
  echo "== batch vs Spark ($BENCH_BATCH_EVENTS events, $count runs each)"
  venv=.cache/pyspark
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q pyspark==4.3.0 || rc=1
  fi
  make -s build || rc=1
  { loadavg batch; go run ./bench/cmd/batchbench -events "$BENCH_BATCH_EVENTS" -runs "$count" \
      -shopease bin/shopease -python "$venv/bin/python"; } | tee "$out/batch.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
fi

# Issue 9: Spark reads the lake shopease wrote and computes the three reports, byte-equal to
# `shopease report` (a check, not a figure: its log is .log, outside the report's inputs).
if wanted spark; then
  echo "== spark over the shopease lake"
  { loadavg spark; bash scripts/spark.sh; } 2>&1 | tee "$out/spark.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
fi

go run ./bench/cmd/benchreport -o docs/benchmarks.md "$out"/*.txt || rc=1
echo "docs/benchmarks.md rewritten"
exit "$rc"
