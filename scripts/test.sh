#!/usr/bin/env bash
# `make test`: every test, against the embedded stand-ins AND against a real Apache Kafka broker and a
# real redis-server, which this script starts (fetching/installing them when missing) and stops.
#
# Usage: scripts/test.sh [go test packages...]     (default ./...)
# Env:   GOTEST_FLAGS  extra flags for go test (e.g. -run TestX; `make test-faults` passes
#                      -tags faults -run ^TestFault)
#        TEST_TIMEOUT  per-package timeout (default 20m)
#
# The full go test output is kept in artifacts/test.log; the summary at the end lists every test that
# ran against the real servers, and the closing line counts passed/failed/skipped tests. A test that
# needs a real server never skips here: SHOPEASE_REQUIRE_REAL=1 turns a missing server into a failure.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
mkdir -p artifacts
log=artifacts/test.log
pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(./...)

stop_servers() {
  local rc=$1
  if [[ $rc -ne 0 ]]; then KEEP_LOGS=1 bash testenv/real.sh stop; else bash testenv/real.sh stop; fi
}

echo "== starting the real servers (Apache Kafka from Maven Central, redis-server from Debian) =="
if ! bash testenv/real.sh start; then
  echo "FAILED to start the real servers; their logs are kept under testenv/run" >&2
  KEEP_LOGS=1 bash testenv/real.sh stop
  exit 1
fi
eval "$(bash testenv/real.sh env)"
export SHOPEASE_REQUIRE_REAL=1

echo "== go test ${pkgs[*]} (embedded and real environments) =="
# shellcheck disable=SC2086
go test -count=1 -v -timeout "${TEST_TIMEOUT:-20m}" ${GOTEST_FLAGS:-} "${pkgs[@]}" 2>&1 | tee "$log" |
  grep -E '^(ok|FAIL|---|panic:|\?)|^\s+--- (FAIL|SKIP)|_test\.go:[0-9]+:' | grep -vE '^\s*--- PASS'
rc=${PIPESTATUS[0]}
stop_servers "$rc"

passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
real=$(grep -E '^\s*--- PASS: .*/real(/| |$)' "$log" | sed -E 's/^\s*--- PASS: ([^ ]*).*/\1/' | sed -E 's#/real.*##' | sort -u)
embedded=$(grep -E '^\s*--- PASS: .*/embedded(/| |$)' "$log" | sed -E 's/^\s*--- PASS: ([^ ]*).*/\1/' | sed -E 's#/embedded.*##' | sort -u)
echo
echo "== summary =="
echo "tests that passed against the REAL Kafka/Redis: $(echo "$real" | grep -c .)"
echo "$real" | sed 's/^/  /'
echo "tests that passed against the EMBEDDED kfake/miniredis: $(echo "$embedded" | grep -c .)"
if [[ $skipped -gt 0 ]]; then
  echo "skipped tests (each must say why):"
  grep -E '^\s*--- SKIP' "$log" | sed 's/^/  /'
fi
echo "full output: $log"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
