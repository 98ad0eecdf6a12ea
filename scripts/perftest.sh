#!/usr/bin/env bash
# Apache Kafka's own producer benchmark (kafka-producer-perf-test, i.e. the ProducerPerformance class of
# the kafka-tools jar fetched by testenv/kafka/fetch.sh) against $SHOPEASE_TEST_KAFKA, with the producer
# settings replay uses: acks=all, idempotent, lz4, 1 MiB batches, 10 ms linger, on a fresh topic with the
# partition count of replay's benchmark topics. It prints one line in Go benchmark format, so that
# bench/report takes medians over runs and the ratio to BenchmarkReplayPerfCompare:
#
#   BenchmarkKafkaProducerPerfTest 1 <ns/op> <records/s> records/s <MB/s> MB/s <bytes> B/record
#
# Usage: eval "$(bash testenv/real.sh env)"; bash scripts/perftest.sh [RUNS]
# Env:   PERF_RECORDS     records per run (default 500000, as BenchmarkReplayPerfCompare)
#        PERF_RECORD_SIZE bytes per record (default 291: key + value of replay's online-retail records)
#        PERF_PARTITIONS  partitions of the topic (default 4, replay's test topics)
#        PERF_NICE        niceness of the JVM (default 10: the machine is shared)
#        SHOPEASE_TEST_KAFKA  bootstrap address (required)
# The topic is deleted after each run. The tool's own summary goes to stderr.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-1}"
records="${PERF_RECORDS:-500000}"
size="${PERF_RECORD_SIZE:-291}"
partitions="${PERF_PARTITIONS:-4}"
niceness="${PERF_NICE:-10}"
brokers="${SHOPEASE_TEST_KAFKA:?set SHOPEASE_TEST_KAFKA (eval \"\$(bash testenv/real.sh env)\")}"
libs="$(bash "$repo/testenv/kafka/fetch.sh" | tail -1)"

kafka_tool() { # CLASS ARGS...: run a class of the Kafka jars
  local class="$1"
  shift
  nice -n "$niceness" java -Xms256m -Xmx1g -cp "$libs/*" -Dlog4j2.level=warn "$class" "$@"
}

for ((i = 1; i <= runs; i++)); do
  topic="perftest-$(date +%s%N)-$$"
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --create --topic "$topic" \
    --partitions "$partitions" --replication-factor 1 >/dev/null
  # ProducerPerformance's last line: "N records sent, R records/sec (M MB/sec), ... avg latency, ...".
  summary="$(kafka_tool org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$records" --record-size "$size" --throughput -1 \
    --producer-props bootstrap.servers="$brokers" acks=all enable.idempotence=true compression.type=lz4 \
    batch.size=1048576 linger.ms=10 max.in.flight.requests.per.connection=5 | tail -1)"
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --delete --topic "$topic" >/dev/null
  echo "perftest run $i: $summary" >&2
  awk -v size="$size" '{
    rate = $4 + 0; sub(/^\(/, "", $6); mb = $6 + 0
    if (rate <= 0) { print "perftest: cannot parse: " $0 > "/dev/stderr"; exit 1 }
    printf "BenchmarkKafkaProducerPerfTest 1 %.0f ns/op %.0f records/s %.2f MB/s %d B/record\n", $1 / rate * 1e9, rate, mb, size
  }' <<<"$summary"
done
