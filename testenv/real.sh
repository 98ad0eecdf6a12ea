#!/usr/bin/env bash
# Starts and stops the REAL test servers: an Apache Kafka 4.x broker (KRaft, one combined
# broker+controller node) fetched from Maven Central, and redis-server (Debian package), both on
# 127.0.0.1 on non-default ports, so `make test` runs the integration suites against what production runs.
#
# Usage: testenv/real.sh start|stop|env|status
#   start   fetch Kafka if needed, format a fresh KRaft log dir, start the broker and redis-server,
#           wait until both answer and print their versions; install chromium (Debian package) for
#           the dashboard's browser test when it is missing. Idempotent: a running server is kept, and
#           a broker whose log dir is already formatted is restarted on its data (fault tests).
#   stop    stop both; data dirs are removed; logs are removed too unless KEEP_LOGS=1 (the Makefile
#           sets it when a test failed) and their location is printed.
#   env     print `export SHOPEASE_TEST_KAFKA=... SHOPEASE_TEST_REDIS=...` for eval.
#   status  say what is running.
# Env: SHOPEASE_CACHE (jar cache root), SHOPEASE_TESTENV_RUN (state dir, default testenv/run),
#      SHOPEASE_KAFKA_PORT (21092), SHOPEASE_KAFKA_CONTROLLER_PORT (21093), SHOPEASE_REDIS_PORT (21379),
#      SHOPEASE_KAFKA_HEAP (768m), SHOPEASE_KAFKA_EXTRA_CONFIG (server.properties lines appended),
#      KEEP_LOGS.
#
# Layout of the state dir (pid files also used by testenv.RealControl):
#   kafka/kafka.pid  kafka/data/  kafka/logs/server.log  kafka/server.properties  kafka/log4j2.yaml
#   redis/redis.pid  redis/redis.log
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
run="${SHOPEASE_TESTENV_RUN:-$here/run}"
# Below Linux's ephemeral range (32768-60999): a port in it can be taken at any moment by an
# outgoing connection or by a listener on port 0 (every kfake and miniredis of a test run), and
# the broker then fails with "Address already in use" (seen while other tests ran).
kafka_port="${SHOPEASE_KAFKA_PORT:-21092}"
controller_port="${SHOPEASE_KAFKA_CONTROLLER_PORT:-21093}"
redis_port="${SHOPEASE_REDIS_PORT:-21379}"
heap="${SHOPEASE_KAFKA_HEAP:-768m}"
kdir="$run/kafka"
rdir="$run/redis"

log() { echo "testenv/real: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# alive PIDFILE: true when the pid in PIDFILE names a live process. A killed server whose parent
# (often PID 1 of a container) has not reaped it yet is a zombie and counts as dead.
alive() {
  local pid state
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)"
  [[ "$state" != Z && "$state" != X ]]
}

# stop_pid NAME PIDFILE: SIGTERM, then SIGKILL after 30 s (a broker flushing its logs may take a while).
stop_pid() {
  local name="$1" pidfile="$2" pid i
  if ! alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within 30s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
}

# require_free_port PORT WHAT: fail when something already listens on PORT. Without this check a
# second environment (another run dir, a leftover broker) would answer our readiness probes and the
# tests would silently run against the wrong server.
# A server killed a moment ago may hold its ports for a few seconds while it exits, so this waits
# up to 15 s before giving up.
require_free_port() {
  local i
  for ((i = 0; i < 150; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 0
    sleep 0.1
  done
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "port 127.0.0.1:$1 ($2) is already in use by another process; stop it (testenv/real.sh stop, with the same SHOPEASE_TESTENV_RUN) or choose other ports (SHOPEASE_KAFKA_PORT, SHOPEASE_KAFKA_CONTROLLER_PORT, SHOPEASE_REDIS_PORT)"
  fi
}

waitkafka_bin() {
  local bin="$run/bin/waitkafka"
  # Built once per run dir: `go run` would recompile on every start and the CPU is shared.
  if [[ ! -x "$bin" ]]; then
    (cd "$repo" && go build -o "$bin" ./testenv/cmd/waitkafka) || die "cannot build testenv/cmd/waitkafka"
  fi
  echo "$bin"
}

write_kafka_config() {
  cat >"$kdir/server.properties" <<PROPS
# Written by testenv/real.sh: single-node KRaft (combined broker + controller) for tests only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$kdir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
# Tests create every topic they use, as goka and production do; a typo must fail, not auto-create.
auto.create.topics.enable=false
# A test's consumer group should start at once, not after the default 3 s rebalance delay.
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=4
PROPS
  # Extra broker settings (e.g. message.max.bytes for a fault test); a later line wins in Java properties.
  if [[ -n "${SHOPEASE_KAFKA_EXTRA_CONFIG:-}" ]]; then
    printf '# from SHOPEASE_KAFKA_EXTRA_CONFIG\n%s\n' "$SHOPEASE_KAFKA_EXTRA_CONFIG" >>"$kdir/server.properties"
  fi
  cat >"$kdir/log4j2.yaml" <<'YAML'
Configuration:
  Properties:
    Property:
      - name: "logs"
        value: "${sys:kafka.logs.dir}"
  Appenders:
    RollingFile:
      - name: Server
        fileName: "${logs}/server.log"
        filePattern: "${logs}/server.log.%i"
        PatternLayout:
          pattern: "[%d] %p %m (%c)%n"
        Policies:
          SizeBasedTriggeringPolicy:
            size: 50MB
        DefaultRolloverStrategy:
          max: 2
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: Server
    Logger:
      - name: kafka.log.LogCleaner
        level: WARN
      - name: org.apache.kafka.storage.internals.log.LogCleaner
        level: WARN
YAML
}

start_kafka() {
  local libs cid bin start pid
  mkdir -p "$kdir/logs" "$run/bin"
  if alive "$kdir/kafka.pid"; then
    log "Kafka already running (pid $(cat "$kdir/kafka.pid")) on 127.0.0.1:$kafka_port"
    return 0
  fi
  require_free_port "$kafka_port" "Kafka clients"
  require_free_port "$controller_port" "Kafka controller"
  libs="$(bash "$here/kafka/fetch.sh" | tail -n 1)"
  bin="$(waitkafka_bin)"
  write_kafka_config
  if [[ ! -f "$kdir/data/meta.properties" ]]; then
    rm -rf "$kdir/data"
    # A cluster id is 16 random bytes in unpadded base64url (what `kafka-storage random-uuid`
    # prints); made here to save a JVM start.
    cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    log "formatting KRaft log dir $kdir/data (cluster id $cid)"
    java -cp "$libs/*" -Dlog4j2.configurationFile="$kdir/log4j2.yaml" -Dkafka.logs.dir="$kdir/logs" \
      kafka.tools.StorageTool format -t "$cid" -c "$kdir/server.properties" >>"$kdir/logs/format.log" 2>&1 ||
      { cat "$kdir/logs/format.log" >&2; die "kafka-storage format failed"; }
  else
    log "log dir $kdir/data already formatted: restarting the broker on its data"
  fi
  log "starting Kafka broker on 127.0.0.1:$kafka_port (controller :$controller_port, heap $heap)"
  start=$(date +%s%N)
  # setsid: the broker must outlive this script and must not get the terminal's SIGINT.
  setsid nohup java -Xmx"$heap" -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$kdir/log4j2.yaml" -Dkafka.logs.dir="$kdir/logs" \
    -cp "$libs/*" kafka.Kafka "$kdir/server.properties" >"$kdir/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$kdir/kafka.pid"
  if ! "$bin" -brokers "127.0.0.1:$kafka_port" -timeout 90s -pid "$pid"; then
    grep -h -m 5 -E ' (ERROR|FATAL) ' "$kdir/logs/server.log" >&2 || true
    grep -h -m 3 -E 'Exception: ' "$kdir/logs/server.log" >&2 || true
    tail -n 10 "$kdir/logs/stdout.log" >&2 || true
    die "Kafka broker did not answer on 127.0.0.1:$kafka_port (logs in $kdir/logs)"
  fi
  log "Kafka broker answers after $(( ($(date +%s%N) - start) / 1000000 )) ms (pid $pid)"
  kafka_version
}

kafka_version() {
  local v
  v="$(grep -m1 -o 'Kafka version: [^ ]*' "$kdir/logs/server.log" 2>/dev/null | awk '{print $3}' || true)"
  echo "Apache Kafka broker version: ${v:-unknown} (KRaft, 127.0.0.1:$kafka_port, logs $kdir/logs)"
}

ensure_redis_installed() {
  command -v redis-server >/dev/null && return 0
  log "redis-server not found: installing the Debian package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q redis-server >&2 || { apt-get update -q >&2 && apt-get install -y -q redis-server >&2; } ||
    die "cannot install redis-server with apt-get"
  # The package starts a system redis on 6379 where an init system runs; ours is separate.
}

# The dashboard's browser test (systemtest.TestDashboardInBrowser) drives headless Chromium.
ensure_chromium_installed() {
  command -v chromium >/dev/null && return 0
  log "chromium not found: installing the Debian package (for the dashboard's browser test)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; } ||
    die "cannot install chromium with apt-get"
}

redis_ping() {
  if command -v redis-cli >/dev/null; then
    [[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" == "PONG" ]]
  else
    exec 3<>"/dev/tcp/127.0.0.1/$redis_port" 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    local reply
    read -r -t 2 reply <&3 || true
    exec 3>&-
    [[ "$reply" == +PONG* ]]
  fi
}

start_redis() {
  local i
  mkdir -p "$rdir/data"
  if alive "$rdir/redis.pid"; then
    log "redis-server already running (pid $(cat "$rdir/redis.pid")) on 127.0.0.1:$redis_port"
    return 0
  fi
  require_free_port "$redis_port" "redis-server"
  ensure_redis_installed
  log "starting redis-server on 127.0.0.1:$redis_port (no persistence)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
    --pidfile "$rdir/redis.pid" --logfile "$rdir/redis.log" --dir "$rdir/data" --databases 64 ||
    die "redis-server did not start (log $rdir/redis.log)"
  for ((i = 0; i < 100; i++)); do
    alive "$rdir/redis.pid" && redis_ping && break
    sleep 0.1
  done
  alive "$rdir/redis.pid" && redis_ping ||
    { tail -n 20 "$rdir/redis.log" >&2; die "redis-server does not answer PING on 127.0.0.1:$redis_port"; }
  echo "redis-server version: $(redis-server --version) (127.0.0.1:$redis_port, pid $(cat "$rdir/redis.pid"))"
}

cmd_start() {
  start_kafka
  start_redis
  ensure_chromium_installed
  echo "browser: $(chromium --version 2>/dev/null) (headless, for the dashboard test)"
}

cmd_stop() {
  stop_pid "Kafka broker" "$kdir/kafka.pid"
  stop_pid "redis-server" "$rdir/redis.pid"
  rm -rf "$kdir/data" "$rdir/data" "$run/bin"
  if [[ "${KEEP_LOGS:-0}" == 1 ]]; then
    log "logs kept: $kdir/logs $rdir/redis.log"
  else
    rm -rf "$kdir" "$rdir"
  fi
}

cmd_env() {
  echo "export SHOPEASE_TEST_KAFKA=127.0.0.1:$kafka_port"
  echo "export SHOPEASE_TEST_REDIS=127.0.0.1:$redis_port"
  # For fault tests (testenv.RealKafkaControl): where the pids are and how to restart.
  echo "export SHOPEASE_TEST_KAFKA_PIDFILE=$kdir/kafka.pid"
  echo "export SHOPEASE_TEST_REDIS_PIDFILE=$rdir/redis.pid"
  echo "export SHOPEASE_TESTENV_SCRIPT=$here/real.sh"
}

cmd_status() {
  local rc=0
  if alive "$kdir/kafka.pid"; then
    echo "kafka: running, pid $(cat "$kdir/kafka.pid"), 127.0.0.1:$kafka_port"
  else
    echo "kafka: not running"; rc=1
  fi
  if alive "$rdir/redis.pid"; then
    echo "redis: running, pid $(cat "$rdir/redis.pid"), 127.0.0.1:$redis_port"
  else
    echo "redis: not running"; rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
