#!/usr/bin/env bash
# The three reports by Spark over a lake that shopease wrote, compared byte for byte with
# `shopease report` over the same lake (issue 9: the lake is Spark-readable as it is).
#
#   bash scripts/spark.sh [LAKE_DIR]
#
# Without LAKE_DIR it builds one on the Kafka of testenv/real.sh (started if needed; stopped
# afterwards only if started here): a generated history (SPARK_PRESET, default small) is replayed
# into a fresh namespace, `shopease run` cleans it, `shopease lake --once` archives it and
# `shopease compact` snapshots the tables. PySpark (pip, pinned) lives in .cache/pyspark (ignored
# by git), shared with make bench's batch benchmark. Outputs: artifacts/spark/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out=artifacts/spark
venv=.cache/pyspark
mkdir -p "$out"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
  echo "== installing pyspark into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pyspark==4.3.0
fi
go build -o bin/shopease ./cmd/shopease
shopease=bin/shopease

lake="${1:-}"
if [[ -z "$lake" ]]; then
  started=0
  bash testenv/real.sh status >/dev/null 2>&1 || started=1
  bash testenv/real.sh start
  eval "$(bash testenv/real.sh env)"
  work="$(mktemp -d /tmp/shopease-spark-XXXXXX)"
  run_pid=""
  cleanup() {
    [[ -n "$run_pid" ]] && kill "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
    rm -rf "$work"
    [[ "$started" == 1 ]] && bash testenv/real.sh stop
    return 0
  }
  trap cleanup EXIT
  lake="$out/lake"
  rm -rf "$lake"
  mkdir -p "$lake"
  common=(--brokers "$SHOPEASE_TEST_KAFKA" --namespace "spark-$(date +%s)-$$." --log-level warn)
  echo "== building a lake: generate --preset ${SPARK_PRESET:-small}, replay, run, lake --once, compact"
  "$shopease" generate --preset "${SPARK_PRESET:-small}" --out "$work/history" >/dev/null
  want="$("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["datasets"]["transactions"]["accepted"])' "$work/history/truth.json")"
  "$shopease" topics create --partitions 4 "${common[@]}" >/dev/null
  "$shopease" replay "$work/history" --manifest "$work/manifest.json" --rejects "" "${common[@]}" >/dev/null
  "$shopease" run --demo-key --data-dir "$work/state" --archive=false --snapshot-interval 0 "${common[@]}" >"$work/run.log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 180); do
    "$shopease" lake --once --lake-dir "$lake" "${common[@]}" >/dev/null
    got="$("$shopease" sql "select count(*) from transactions" --lake-dir "$lake" --format csv | tail -1 || true)"
    [[ "$got" == "$want" ]] && break
    sleep 1
  done
  [[ "$got" == "$want" ]] || { echo "the lake holds $got transaction lines, want $want"; cat "$work/run.log"; exit 1; }
  # The other gateways may trail the transactions one: archive until a pass finds nothing new.
  for _ in $(seq 1 60); do
    sleep 2
    rows="$("$shopease" lake --once --lake-dir "$lake" "${common[@]}" | awk '{n += $2} END {print n + 0}')"
    [[ "$rows" == 0 ]] && break
  done
  "$shopease" compact --lake-dir "$lake" "${common[@]}" >/dev/null 2>&1
  echo "lake of $want transaction lines in $lake"
fi

# Spark binds its driver to loopback only, as every server here.
export SPARK_LOCAL_IP=127.0.0.1
asof=()
[[ -n "${SPARK_AS_OF:-}" ]] && asof=(--as-of "$SPARK_AS_OF")
start=$(date +%s)
"$venv/bin/python" scripts/spark/lake_reports.py --lake "$lake" --out "$out/spark" "${asof[@]}"
echo "spark: $(( $(date +%s) - start )) s"
rc=0
for report in monthly-revenue top-products inventory-turnover; do
  "$shopease" report "$report" --format csv --lake-dir "$lake" "${asof[@]}" >"$out/shopease-$report.csv"
  if cmp -s "$out/spark/$report.csv" "$out/shopease-$report.csv"; then
    echo "$report: Spark and shopease agree ($(( $(wc -l <"$out/shopease-$report.csv") - 1 )) rows)"
  else
    echo "$report: Spark and shopease DIFFER:"
    diff "$out/spark/$report.csv" "$out/shopease-$report.csv" | head -20
    rc=1
  fi
done
exit "$rc"
