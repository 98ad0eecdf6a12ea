#!/usr/bin/env bash
# Apache Kafka's own producer benchmark (kafka-producer-perf-test, i.e. the ProducerPerformance class of
# the kafka-tools jar fetched by testenv/kafka/fetch.sh) against $SHOPEASE_TEST_KAFKA, with the producer
# settings replay uses: acks=all, idempotent, lz4, 1 MiB batches, 10 ms linger, on a fresh topic with the
# partition count of replay's benchmark topics. Each run prints one line in Go benchmark format, so that
# bench/report takes medians over runs and the ratio to replay's BenchmarkReplayPerfCompare:
#
#   BenchmarkKafkaProducerPerfTest 1 <ns/op> <records/s> records/s <MB/s> MB/s <bytes> B/record
#
# Usage: eval "$(bash testenv/real.sh env)"; bash scripts/perftest.sh [RUNS]
#        PERF_PAIRED=1 bash scripts/perftest.sh 3 | tee perf.txt   (both benchmarks, alternating)
# Env:   PERF_RECORDS     records per run (default 500000, as BenchmarkReplayPerfCompare)
#        PERF_RECORD_SIZE bytes per record (default 291: key + value of replay's online-retail records)
#        PERF_PARTITIONS  partitions of the topic (default 4, replay's test topics)
#        PERF_PAIRED      1: each run of the tool is paired with one run of BenchmarkReplayPerfCompare
#                         (same record count and size, same broker), so the two alternate and a noisy
#                         neighbour on the shared machine hits both alike
#        PERF_PAYLOAD     random (default): the tool's own payload, PERF_RECORD_SIZE random letters;
#                         replay (needs PERF_PAIRED=1): the values of replay's records, written by the
#                         first replay run (--payload-file; same bytes and compressibility, no key and
#                         no headers); the tool's line is then BenchmarkKafkaProducerPerfTestReplayPayload
#        PERF_NICE        niceness of both (default 10: the machine is shared)
#        SHOPEASE_TEST_KAFKA  bootstrap address (required)
# Topics are deleted after each run. The tool's own summary lines go to stderr.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-1}"
records="${PERF_RECORDS:-500000}"
size="${PERF_RECORD_SIZE:-291}"
partitions="${PERF_PARTITIONS:-4}"
niceness="${PERF_NICE:-10}"
paired="${PERF_PAIRED:-0}"
payload="${PERF_PAYLOAD:-random}"
brokers="${SHOPEASE_TEST_KAFKA:?set SHOPEASE_TEST_KAFKA (eval \"\$(bash testenv/real.sh env)\")}"
libs="$(bash "$repo/testenv/kafka/fetch.sh" | tail -1)"
case "$payload" in
  random) name=BenchmarkKafkaProducerPerfTest ;;
  replay)
    [[ "$paired" == 1 ]] || { echo "perftest: PERF_PAYLOAD=replay needs PERF_PAIRED=1" >&2; exit 2; }
    name=BenchmarkKafkaProducerPerfTestReplayPayload ;;
  *) echo "perftest: PERF_PAYLOAD is random or replay, not $payload" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ "$paired" == 1 ]]; then
  (cd "$repo" && go test -c -o "$work/replay.test" ./replay)
fi

kafka_tool() { # CLASS ARGS...: run a class of the Kafka jars
  local class="$1"
  shift
  nice -n "$niceness" java -Xms256m -Xmx1g -cp "$libs/*" "$class" "$@"
}

replay_bench() { # one run of BenchmarkReplayPerfCompare; the first also writes the payload file
  local env=(REPLAY_PERF_RECORDS="$records")
  if [[ "$payload" == replay && ! -s "$work/payloads" ]]; then
    env+=(REPLAY_PERF_PAYLOADS="$work/payloads")
  fi
  # In the package dir: the benchmark synthesizes its file from replay/testdata.
  (cd "$repo/replay" && env "${env[@]}" nice -n "$niceness" "$work/replay.test" -test.run '^$' \
    -test.bench '^BenchmarkReplayPerfCompare$' -test.benchtime 1x -test.count 1) | grep '^Benchmark'
}

perf_tool() { # one run of kafka-producer-perf-test on a fresh topic
  local topic="perftest-$(date +%s%N)-$$" what=(--record-size "$size") bytes="$size"
  if [[ "$payload" == replay ]]; then
    what=(--payload-file "$work/payloads")
    bytes="$(awk '{ n += length($0) } END { printf "%.1f", n / NR }' "$work/payloads")"
  fi
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --create --topic "$topic" \
    --partitions "$partitions" --replication-factor 1 >/dev/null
  # ProducerPerformance's last line: "N records sent, R records/sec (M MB/sec), ... avg latency, ...".
  local summary
  summary="$(kafka_tool org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$records" "${what[@]}" --throughput -1 \
    --producer-props bootstrap.servers="$brokers" acks=all enable.idempotence=true compression.type=lz4 \
    batch.size=1048576 linger.ms=10 max.in.flight.requests.per.connection=5 | tail -1)"
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --delete --topic "$topic" >/dev/null
  echo "perftest: $summary" >&2
  awk -v name="$name" -v bytes="$bytes" '{
    rate = $4 + 0; mb = substr($6, 2) + 0
    if (rate <= 0) { print "perftest: cannot parse: " $0 > "/dev/stderr"; exit 1 }
    printf "%s 1 %.0f ns/op %.0f records/s %.2f MB/s %s B/record\n", name, $1 / rate * 1e9, rate, mb, bytes
  }' <<<"$summary"
}

for ((i = 1; i <= runs; i++)); do
  if [[ "$paired" == 1 ]]; then
    replay_bench
  fi
  perf_tool
done
