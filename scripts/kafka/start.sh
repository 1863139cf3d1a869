#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft, no ZooKeeper) on 127.0.0.1 for the tests and
# prints its bootstrap address (host:port) as the last line of standard output.
#
#   scripts/kafka/start.sh            # then: export STREAM_KAFKA_BOOTSTRAP=127.0.0.1:19092
#   STREAM_KAFKA_BOOTSTRAP=$(scripts/kafka/start.sh | tail -1)
#
# Idempotent: a broker this script started that still runs is left alone and its address is
# printed again. On a fresh Debian machine it installs Java 17 and Maven with apt-get, fetches the
# broker's jars from Maven Central (scripts/kafka/pom.xml) into the ignored directory .kafka/
# (skipped when they are there), formats a KRaft log directory once, and starts the broker in the
# background, waiting until it accepts connections.
#
# Environment: STREAM_KAFKA_PORT (19092; the controller listens on the next port),
# STREAM_KAFKA_DIR (<repo>/.kafka: jars, config, data, server.log, pid).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${STREAM_KAFKA_DIR:-$root/.kafka}"
port="${STREAM_KAFKA_PORT:-19092}"
controller_port=$((port + 1))
address="127.0.0.1:$port"

log() { echo "kafka: $*" >&2; }

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

if running && accepts "$port"; then
  log "already running (pid $(cat "$dir/pid")) at $address"
  echo "$address"
  exit 0
fi
if accepts "$port"; then
  log "something else listens on 127.0.0.1:$port; set STREAM_KAFKA_PORT to another port"
  exit 1
fi

# Java and Maven, from Debian's packages when missing.
install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing $*: install it (apt-get install $*) or run this script as root"
    exit 1
  fi
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "$@" >&2
}
command -v java >/dev/null 2>&1 || install openjdk-17-jre-headless
command -v mvn >/dev/null 2>&1 || install maven

# The broker's jars (about 55 MB), once.
mkdir -p "$dir"
if [ ! -f "$dir/libs/.complete" ] || [ "$here/pom.xml" -nt "$dir/libs/.complete" ]; then
  log "fetching the broker's jars with Maven into $dir/libs"
  rm -rf "$dir/libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir/libs" >&2
  touch "$dir/libs/.complete"
fi

cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
cat >"$dir/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=org.apache.kafka
logger.kafka.level=INFO
EOF

classpath="$dir/libs/*"
java_opts=(-Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$dir/log4j2.properties")

# A KRaft log directory, formatted once.
if [ ! -f "$dir/data/meta.properties" ]; then
  cluster_id="$(java -cp "$classpath" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
  log "formatting the KRaft log directory $dir/data (cluster $cluster_id)"
  java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$dir/server.properties" >&2
fi

log "starting the broker at $address (log: $dir/server.log)"
nohup setsid java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$dir/server.properties" \
  >"$dir/stdout.log" 2>&1 </dev/null &
echo $! >"$dir/pid"

# Wait until it accepts connections and has said it started (at most 90 s).
for _ in $(seq 1 900); do
  if ! running; then
    log "the broker exited while starting; the end of $dir/server.log and $dir/stdout.log:"
    tail -n 30 "$dir/server.log" "$dir/stdout.log" >&2 || true
    exit 1
  fi
  if accepts "$port" && grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null; then
    log "started (pid $(cat "$dir/pid"))"
    echo "$address"
    exit 0
  fi
  sleep 0.1
done
log "the broker did not accept connections within 90 s; see $dir/server.log"
exit 1
