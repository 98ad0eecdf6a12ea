#!/usr/bin/env bash
# Fetches Apache Kafka (broker + tools + log4j) and its runtime dependencies from Maven Central into a
# cache outside the repository, so that tests and benchmarks can run a REAL broker on a fresh machine.
#
# Usage: testenv/kafka/fetch.sh            prints the libs dir on the last line of stdout
# Env:   SHOPEASE_CACHE   cache root (default $HOME/.cache/shopease)
#        KAFKA_VERSION    must match testenv/kafka/pom.xml (default 4.1.1)
#
# Idempotent: a marker file (the pom's hash) written after a complete copy makes later runs skip Maven
# entirely; an interrupted copy (no marker) or a changed pom is redone from scratch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${KAFKA_VERSION:-4.1.1}"
cache="${SHOPEASE_CACHE:-$HOME/.cache/shopease}"
home="$cache/kafka-$version"
libs="$home/libs"
marker="$home/.fetched"
# The marker holds the pom's hash, so that changing the pom (a version, a dependency) refetches.
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

log() { echo "testenv/kafka/fetch: $*" >&2; }

if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -f "$libs/kafka_2.13-$version.jar" && -f "$libs/kafka-tools-$version.jar" ]]; then
  log "Kafka $version already in $libs ($(ls "$libs" | wc -l) jars)"
  echo "$libs"
  exit 0
fi

# apt_install PKG...: install Debian packages, refreshing the package lists once if that fails.
apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >&2 || { apt-get update -q >&2 && apt-get install -y -q "$@" >&2; }
}
command -v java >/dev/null || apt_install default-jdk-headless || { log "no java and cannot install a JDK"; exit 1; }
command -v mvn >/dev/null || apt_install maven || { log "no mvn and cannot install Maven"; exit 1; }

log "fetching Apache Kafka $version and its runtime dependencies from Maven Central into $libs"
rm -rf "$libs"
mkdir -p "$libs"
start=$(date +%s)
# Maven's own output goes to a file (it prints terminal escapes even with -q); shown when it fails.
if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" dependency:copy-dependencies \
  -DoutputDirectory="$libs" -DincludeScope=runtime >"$home/mvn.log" 2>&1; then
  cat "$home/mvn.log" >&2
  log "mvn dependency:copy-dependencies failed (log $home/mvn.log)"
  exit 1
fi
for jar in "kafka_2.13-$version.jar" "kafka-tools-$version.jar" "kafka-server-$version.jar"; do
  [[ -f "$libs/$jar" ]] || { log "Maven finished but $libs/$jar is missing"; exit 1; }
done
echo "$want" >"$marker"
log "fetched $(ls "$libs" | wc -l) jars in $(( $(date +%s) - start ))s"
echo "$libs"
