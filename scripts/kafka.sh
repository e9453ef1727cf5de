#!/usr/bin/env bash
# Kafka (KRaft) as plain local processes: no Docker engine on these machines, and Kafka is in
# neither Debian nor npm, so its jars come from Maven Central (scripts/kafka/pom.xml).
#
#   scripts/kafka.sh fetch    download the jars once into .cache/kafka/<version>/libs
#   scripts/kafka.sh start    start the broker(s) in the background; returns when they answer
#   scripts/kafka.sh stop     stop the broker(s) this checkout started
#   scripts/kafka.sh status   exit 0 when every broker runs, 1 otherwise
#   scripts/kafka.sh nodes    one line per node: <node id> <host:port> <pid file>
#
# One node by default: 127.0.0.1:9092, controller on the next port, files in .run/kafka.
# `--nodes 3` (or KAFKA_NODES=3) is a cluster of 3 nodes, each broker AND controller (3 JVMs, not 6,
# on 2 cores; a quorum of 3 outlives one node): node n listens on KAFKA_PORT + 2(n-1) (9092, 9094,
# 9096), its controller on the port after it, its files in .run/kafka-<n>. Topics get 3 replicas
# and min.insync.replicas=2, so acks=all writes go on with one node down. `--node <n>` acts on one
# node of the cluster only (start it again after a kill -9, stop it).
#
# KAFKA_PORT (default 9092) moves the client listener(s). KAFKA_RUN_DIR (default .run/kafka) holds
# config, data, pid and log (a cluster: KAFKA_RUN_DIR-<n>): a second broker or cluster (e.g. a
# test's or a drill's own) needs its own. KAFKA_HEAP (default 512m) is each JVM's heap.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="$(tr -d '[:space:]' <"$ROOT/scripts/kafka/VERSION")"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_NODES="${KAFKA_NODES:-1}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
ONLY_NODE=
LIBS="$ROOT/.cache/kafka/$KAFKA_VERSION/libs"
BASE_RUN_DIR="${KAFKA_RUN_DIR:-$ROOT/.run/kafka}"
START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-60}"
STOP_TIMEOUT_S=30

COMMAND="${1:-}"
[ $# -eq 0 ] || shift
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) KAFKA_NODES="${2:-}"; shift 2 || true ;;
    --node) ONLY_NODE="${2:-}"; shift 2 || true ;;
    *) printf 'unknown option %s\n' "$1" >&2; exit 2 ;;
  esac
done
[[ "$KAFKA_NODES" =~ ^[1-9]$ ]] || { printf -- '--nodes expects 1 to 9, got "%s"\n' "$KAFKA_NODES" >&2; exit 2; }
if [ -n "$ONLY_NODE" ] && ! { [[ "$ONLY_NODE" =~ ^[1-9]$ ]] && [ "$ONLY_NODE" -le "$KAFKA_NODES" ]; }; then
  printf -- '--node expects a node of the cluster, 1 to %s (with --nodes), got "%s"\n' "$KAFKA_NODES" "$ONLY_NODE" >&2
  exit 2
fi

# The single node keeps the layout it always had; node n of a cluster gets the ports and folder
# described at the top. Sets NODE, LABEL, PORT, CONTROLLER_PORT, RUN_DIR and the files in it.
use_node() {
  NODE="$1"
  if [ "$KAFKA_NODES" = 1 ]; then
    PORT="$KAFKA_PORT"
    CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
    RUN_DIR="$BASE_RUN_DIR"
  else
    PORT=$((KAFKA_PORT + 2 * (NODE - 1)))
    CONTROLLER_PORT=$((PORT + 1))
    RUN_DIR="$BASE_RUN_DIR-$NODE"
  fi
  LABEL="Kafka"
  [ "$KAFKA_NODES" = 1 ] || LABEL="Kafka node $NODE"
  PID_FILE="$RUN_DIR/kafka.pid"
  LOG_FILE="$RUN_DIR/kafka.log"
  CONFIG="$RUN_DIR/server.properties"
}

# The nodes a command acts on: all of them, or the one named with --node.
selected_nodes() {
  if [ -n "$ONLY_NODE" ]; then echo "$ONLY_NODE"; else seq 1 "$KAFKA_NODES"; fi
}

# Every controller of the cluster (after use_node: the single node's is its own).
quorum_voters() {
  local n voters=
  if [ "$KAFKA_NODES" = 1 ]; then
    echo "1@127.0.0.1:$CONTROLLER_PORT"
    return
  fi
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    voters="${voters:+$voters,}$n@127.0.0.1:$((KAFKA_PORT + 2 * (n - 1) + 1))"
  done
  echo "$voters"
}

# shellcheck source=lib/toolchain.sh
source "$ROOT/scripts/lib/toolchain.sh"
# shellcheck source=lib/ports.sh
source "$ROOT/scripts/lib/ports.sh"

require_java() {
  command -v java >/dev/null \
    || die "no 'java' on PATH: Kafka $KAFKA_VERSION needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [ "${major%%.*}" -ge 17 ] 2>/dev/null \
    || die "java $major found, Kafka $KAFKA_VERSION needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)"
}

fetch() {
  if [ -f "$LIBS/.complete" ]; then
    return 0
  fi
  require_java
  command -v mvn >/dev/null \
    || die "no 'mvn' on PATH: Maven downloads Kafka's jars from Maven Central (Debian: apt-get install -y maven)"
  info "downloading Kafka $KAFKA_VERSION jars from Maven Central into ${LIBS#"$ROOT"/}"
  local tmp="$LIBS.tmp.$$" mvn_log
  mvn_log="$(mktemp)"
  rm -rf "$tmp"
  # Into a temporary folder first: an interrupted download must not look like a complete one.
  if ! mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    rm -rf "$tmp" "$mvn_log"
    die "Maven could not fetch Kafka $KAFKA_VERSION (is Maven Central reachable? proxy settings go in ~/.m2/settings.xml)"
  fi
  rm -f "$mvn_log"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  touch "$LIBS/.complete"
}

# The pid in kafka.pid is ours only while that process is still a broker started with our config:
# after a reboot the number may belong to anything.
our_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $CONFIG" || return 1
  echo "$pid"
}

# A real Kafka round trip (ApiVersions to every broker in the metadata), not just an open socket.
broker_answers() {
  java -Xmx64m -cp "$LIBS/*" -Dlog4j2.level=error org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$1" >/dev/null 2>&1
}

write_config() {
  local replicas=1 min_isr=1
  # One broker: internal topics cannot have more replicas than brokers. A cluster: 3 replicas
  # (fewer with 2 nodes), and an acks=all write needs 2 of them, so one node may be down.
  if [ "$KAFKA_NODES" -gt 1 ]; then
    replicas=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3))
    min_isr=$((replicas - 1))
  fi
  mkdir -p "$RUN_DIR"
  cat >"$CONFIG" <<EOF
# Generated by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$NODE
controller.quorum.voters=$(quorum_voters)
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN_DIR/data
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=$replicas
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replicas
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
# Tests join fresh consumer groups all the time; the default 3 s delay would be paid each time.
group.initial.rebalance.delay.ms=0
# The log cleaner allocates its whole dedupe buffer at start (default 128 MB): with a small heap
# (a drill's 256m nodes) that was an OutOfMemoryError at start-up. The compacted topics here are
# small; 16 MB is plenty.
log.cleaner.dedupe.buffer.size=16777216
EOF
  cat >"$RUN_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
}

# Every node of a cluster is formatted with the same cluster id, kept beside their folders
# (remove .run/kafka-* together to start a cluster afresh).
cluster_id() {
  local file="$BASE_RUN_DIR.cluster-id" id
  if [ "$KAFKA_NODES" != 1 ] && [ -s "$file" ]; then
    cat "$file"
    return
  fi
  id="$(java -cp "$LIBS/*" -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [ -n "$id" ] || die "kafka.tools.StorageTool random-uuid printed nothing"
  [ "$KAFKA_NODES" = 1 ] || printf '%s\n' "$id" >"$file"
  echo "$id"
}

format_storage() {
  [ -f "$RUN_DIR/data/meta.properties" ] && return 0
  local id
  id="$(cluster_id)"
  java -cp "$LIBS/*" -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" kafka.tools.StorageTool \
    format -t "$id" -c "$CONFIG" >"$RUN_DIR/format.log" 2>&1 \
    || { cat "$RUN_DIR/format.log" >&2; die "formatting $RUN_DIR/data failed"; }
}

# Starts the selected nodes that do not run yet, all at once (a cluster's controllers need a
# majority of each other before any of them serves), then waits until each one answers.
start() {
  local n pid holder port started_at launched=()
  local -A pids=() waiters=()
  fetch
  for n in $(selected_nodes); do
    use_node "$n"
    if pid="$(our_pid)"; then
      info "$LABEL already running (pid $pid) at 127.0.0.1:$PORT"
      continue
    fi
    for port in "$PORT" "$CONTROLLER_PORT"; do
      holder="$(port_holder "$port")"
      [ -z "$holder" ] && continue
      # Another checkout's single broker on the same port serves us just as well; anything else
      # is a clash (a lone broker is no cluster).
      if [ "$KAFKA_NODES" = 1 ] && [ "$port" = "$PORT" ] && [[ "$holder" =~ pid\ ([0-9]+) ]] \
        && tr '\0' ' ' <"/proc/${BASH_REMATCH[1]}/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' \
        && broker_answers "$PORT"; then
        info "reusing the Kafka broker already at 127.0.0.1:$PORT: $holder, not started by this checkout"
        return 0
      fi
      die "port $port is taken by $holder. Stop that program, or pick other ports: KAFKA_PORT=<port> $0 start (the controller uses KAFKA_PORT+1; node n of a cluster KAFKA_PORT+2(n-1) and the port after it)"
    done
    launched+=("$n")
  done
  [ "${#launched[@]}" -gt 0 ] || return 0
  require_java
  started_at=$SECONDS
  # Each format is a JVM of its own: side by side, with the cluster's id chosen once before.
  [ "$KAFKA_NODES" = 1 ] || { use_node "${launched[0]}" && write_config && cluster_id >/dev/null; }
  for n in "${launched[@]}"; do
    (use_node "$n" && write_config && format_storage) &
    pids[$n]=$!
  done
  for n in "${launched[@]}"; do
    wait "${pids[$n]}" || die "preparing Kafka node $n failed"
  done
  for n in "${launched[@]}"; do
    use_node "$n"
    info "starting $LABEL ($KAFKA_VERSION) at 127.0.0.1:$PORT (log: ${LOG_FILE#"$ROOT"/})"
    # setsid: a Ctrl-C in the terminal that ran scripts/start must not reach the broker directly;
    # scripts/start decides whether to stop it. Without job control, setsid execs in place, so $!
    # is the JVM's pid.
    setsid java "-Xmx$KAFKA_HEAP" "-Xms$KAFKA_HEAP" -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" \
      -cp "$LIBS/*" kafka.Kafka "$CONFIG" </dev/null >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    pids[$n]=$!
  done
  for n in "${launched[@]}"; do
    use_node "$n"
    pid="${pids[$n]}"
    wait_until_up "$pid" "$started_at" &
    waiters[$n]=$!
  done
  for n in "${launched[@]}"; do
    wait "${waiters[$n]}" || { stop >/dev/null 2>&1 || true; exit 1; }
  done
}

# Returns once the node (after use_node) answers Kafka requests; dies if it exits or takes longer
# than START_TIMEOUT_S.
wait_until_up() {
  local pid="$1" started_at="$2" elapsed
  while ! port_open "$PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "$LABEL exited during start-up (log above, full log in $LOG_FILE)"
    fi
    if [ $((SECONDS - started_at)) -ge "$START_TIMEOUT_S" ]; then
      tail -n 40 "$LOG_FILE" >&2
      die "$LABEL did not open 127.0.0.1:$PORT within ${START_TIMEOUT_S}s (log above, full log in $LOG_FILE)"
    fi
    sleep 0.2
  done
  until broker_answers "$PORT"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $((SECONDS - started_at)) -ge "$START_TIMEOUT_S" ]; then
      tail -n 40 "$LOG_FILE" >&2
      die "$LABEL opened its port but does not answer Kafka requests (log above, full log in $LOG_FILE)"
    fi
    sleep 0.5
  done
  elapsed=$((SECONDS - started_at))
  info "$LABEL ready at 127.0.0.1:$PORT (pid $pid, ${elapsed}s)"
}

# SIGTERM to every selected node at once, then waits: a cluster stopped one node at a time would
# make each later node wait for the controllers that already left.
stop() {
  local n pid waited=0 running=()
  for n in $(selected_nodes); do
    use_node "$n"
    if pid="$(our_pid)"; then
      info "stopping $LABEL (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      running+=("$pid")
    else
      info "$LABEL is not running (not started by this checkout)"
    fi
    rm -f "$PID_FILE"
  done
  [ "${#running[@]}" -gt 0 ] || return 0
  while kill -0 "${running[@]}" 2>/dev/null; do
    if [ "$waited" -ge $((STOP_TIMEOUT_S * 5)) ]; then
      info "Kafka did not stop within ${STOP_TIMEOUT_S}s: killing it"
      kill -KILL "${running[@]}" 2>/dev/null || true
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

status() {
  local n pid rc=0
  for n in $(selected_nodes); do
    use_node "$n"
    if pid="$(our_pid)"; then
      echo "$LABEL ($KAFKA_VERSION) running (pid $pid) at 127.0.0.1:$PORT"
    else
      echo "$LABEL not running at 127.0.0.1:$PORT (not started by this checkout)"
      rc=1
    fi
  done
  return "$rc"
}

nodes() {
  local n
  for n in $(selected_nodes); do
    use_node "$n"
    echo "$NODE 127.0.0.1:$PORT $PID_FILE"
  done
}

case "$COMMAND" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  nodes) nodes ;;
  *) die "usage: $0 {fetch|start|stop|status|nodes} [--nodes <n>] [--node <n>]" ;;
esac
