#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on loopback, for the
# relay's tests and benchmark. Built from the official org.apache.kafka artifacts that Maven
# resolves into a cache outside the clone; no Docker, no download from anywhere but Maven Central.
#
#   scripts/kafka.sh start    resolve (first time only), format (first time only), start, wait until it answers
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds; nothing running is fine
#   scripts/kafka.sh status   prints "running (pid N, 127.0.0.1:PORT)" or "stopped"; exit 0 / 3
#
# KAFKA_SECURITY=scram starts another broker (its own port and work dir, so both can run at once)
# whose only client listener is SASL_PLAINTEXT with SCRAM-SHA-512, with the standard authorizer
# (org.apache.kafka.metadata.authorizer.StandardAuthorizer), no access without an ACL, and
# User:admin as the only super user. Its SCRAM users are written into the metadata when the log
# dir is formatted (kafka-storage format --add-scram), from KAFKA_SCRAM_USERS. The controller
# listener authenticates the broker with SASL PLAIN (SCRAM cannot serve a KRaft controller, whose
# credentials are in the metadata it serves). A second client listener on KAFKA_PORT + 2 is
# SASL_SSL (TLS + SCRAM) with a self-signed certificate for 127.0.0.1, trusted through
# <NRM_KAFKA_DIR>/tls/ca.crt. Loopback, invented credentials: for tests only; production listeners
# are TLS + SCRAM (deploy/k8s/engines/strimzi-kafka.yaml).
#
# Environment (all optional):
#   KAFKA_PORT             broker port on 127.0.0.1 (default 19092); the controller listens on KAFKA_PORT + 1
#   NRM_KAFKA_DIR          work dir: config, log dir, pid file, broker output (default /tmp/nrm-kafka)
#   NRM_CACHE              cache root for the resolved jars (default $HOME/.cache/nrm-ledger)
#   KAFKA_VERSION          an org.apache.kafka:kafka_2.13 4.x version (default 4.1.1)
#   KAFKA_HEAP             JVM heap (default 512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 20)
#   NRM_MAVEN_REPO         a Maven local repository other than ~/.m2/repository (e.g. to time a cold resolution)
#   KAFKA_SECURITY         plaintext (default) or scram (above); scram defaults to port 19292, dir /tmp/nrm-kafka-scram
#   KAFKA_SCRAM_USERS      scram only: space-separated user:password pairs, read at the first format only
#                          (default: admin, nrm-relay, agency-a, agency-b, coordinator with invented test passwords)
#
# Two callers at once (two test runs) are serialised by a lock on the work dir. The log dir is kept
# across stop/start: a restarted broker still has its topics, which the relay's restart test relies on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
SLF4J_VERSION="2.0.17"
SECURITY="${KAFKA_SECURITY:-plaintext}"
case "$SECURITY" in
  plaintext) DEFAULT_PORT=19092 DEFAULT_DIR=/tmp/nrm-kafka ;;
  scram) DEFAULT_PORT=19292 DEFAULT_DIR=/tmp/nrm-kafka-scram ;;
  *)
    echo "kafka.sh: KAFKA_SECURITY must be plaintext or scram, got '$SECURITY'" >&2
    exit 1
    ;;
esac
# Invented credentials for a loopback test broker; never reused anywhere.
SCRAM_USERS="${KAFKA_SCRAM_USERS:-admin:admin-test-secret nrm-relay:relay-test-secret agency-a:agency-a-test-secret agency-b:agency-b-test-secret coordinator:coordinator-test-secret}"
PORT="${KAFKA_PORT:-$DEFAULT_PORT}"
CACHE="${NRM_CACHE:-$HOME/.cache/nrm-ledger}/kafka-${KAFKA_VERSION}"
LIB="$CACHE/lib"
DIR="${NRM_KAFKA_DIR:-$DEFAULT_DIR}"
PID_FILE="$DIR/kafka.pid"
OUT="$DIR/kafka.out"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

case "$PORT" in
  '' | *[!0-9]*) die "KAFKA_PORT must be a port number, got '$PORT'" ;;
esac
((PORT >= 1024 && PORT <= 65534)) || die "KAFKA_PORT must be from 1024 to 65534, got $PORT"
case "$KAFKA_VERSION" in
  4.*) ;;
  *) die "KAFKA_VERSION must be a 4.x version (KRaft only), got '$KAFKA_VERSION'" ;;
esac
CONTROLLER_PORT=$((PORT + 1))
# scram only: SASL_SSL (TLS + SCRAM) beside the SASL_PLAINTEXT listener, with a throwaway keystore.
TLS_PORT=$((PORT + 2))
TLS_STORE_PASSWORD=nrm-test-keystore

# The pid of our broker, if it runs: the pid file names it and its command line is ours.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $DIR/server.properties" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The socket inodes listening on a TCP port (IPv4 or IPv6), from /proc/net.
listening_inodes() {
  local hex
  hex="$(printf '%04X' "$1")"
  awk -v port=":$hex" '$2 ~ port"$" && $4 == "0A" { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# True when process $1 holds the socket listening on port $2: the broker answering is the one we started.
holds_port() {
  local pid="$1" inode
  for inode in $(listening_inodes "$2"); do
    ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "socket:\[$inode\]" && return 0
  done
  return 1
}

# The pid listening on port $1, when this user can see it.
port_holder() {
  local inode fd
  for inode in $(listening_inodes "$1"); do
    for fd in /proc/[0-9]*/fd/*; do
      if [[ "$(readlink "$fd" 2>/dev/null)" == "socket:[$inode]" ]]; then
        fd="${fd#/proc/}"
        echo "${fd%%/*}"
        return 0
      fi
    done
  done
  return 1
}

# Why broker $1 is not the one answering on its ports (empty when it holds both, or while a port is free).
foreign_ports() {
  local pid="$1" port holder
  for port in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$port" || continue
    holds_port "$pid" "$port" && continue
    if holder="$(port_holder "$port")"; then
      [[ "$holder" == "$pid" ]] && continue
      echo "127.0.0.1:$port answers, but from pid $holder ($(tr '\0' ' ' <"/proc/$holder/cmdline" 2>/dev/null | cut -c1-80)), not from the broker started (pid $pid)"
    else
      echo "127.0.0.1:$port answers, but not from the broker started (pid $pid): a process this user cannot see holds it"
    fi
    return 0
  done
}

# The throwaway pom whose runtime classpath is the broker's.
pom_xml() {
  cat <<POM
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka.sh to resolve a Kafka broker's runtime classpath; safe to delete. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>nrm-ledger</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <!-- Kafka logs through SLF4J and its pom brings no binding: log4j2's, as the Kafka distribution does.
         SLF4J 2 (backward compatible with the 1.7 API Kafka names) so that log4j2's current binding fits. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
POM
}

# Resolves the broker's jars into the cache, once per pom (dependency:copy-dependencies).
resolve() {
  local fingerprint
  fingerprint="$(pom_xml | sha256sum | cut -c1-16)"
  [[ -f "$LIB/.resolved" && "$(cat "$LIB/.resolved")" == "$fingerprint" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed once to resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  local work="$CACHE/resolve"
  rm -rf "$work" "$LIB.partial"
  mkdir -p "$work"
  pom_xml >"$work/pom.xml"
  local repo=()
  [[ -n "${NRM_MAVEN_REPO:-}" ]] && repo=("-Dmaven.repo.local=$NRM_MAVEN_REPO")
  echo "kafka.sh: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven into $LIB (first run only)" >&2
  if ! mvn -B -q -f "$work/pom.xml" "${repo[@]}" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB.partial" >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2
    die "Maven could not resolve the Kafka broker (log: $work/mvn.log)"
  fi
  rm -rf "$LIB"
  mv "$LIB.partial" "$LIB"
  echo "$fingerprint" >"$LIB/.resolved"
}

# The password of a KAFKA_SCRAM_USERS user.
scram_password() {
  local pair
  for pair in $SCRAM_USERS; do
    [[ "${pair%%:*}" == "$1" ]] && echo "${pair#*:}" && return 0
  done
  return 1
}

# The listeners of the broker: plaintext, or SCRAM with the standard authorizer.
listener_config() {
  if [[ "$SECURITY" == plaintext ]]; then
    cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
PROPS
    return 0
  fi
  local admin
  admin="$(scram_password admin)" || die "KAFKA_SCRAM_USERS must name the super user admin (admin:PASSWORD)"
  cat <<PROPS
listeners=BROKER://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT},TLS://127.0.0.1:${TLS_PORT}
advertised.listeners=BROKER://127.0.0.1:${PORT},TLS://127.0.0.1:${TLS_PORT}
inter.broker.listener.name=BROKER
controller.listener.names=CONTROLLER
listener.security.protocol.map=BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,TLS:SASL_SSL
listener.name.broker.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.tls.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.tls.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.tls.ssl.keystore.type=PKCS12
listener.name.tls.ssl.keystore.location=${DIR}/tls/broker.p12
listener.name.tls.ssl.keystore.password=${TLS_STORE_PASSWORD}
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.broker.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${admin}";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${admin}" user_admin="${admin}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
PROPS
}

# scram only: a self-signed certificate for 127.0.0.1 (30 days, made again when missing or older
# than 20 days); clients trust $DIR/tls/ca.crt, the certificate itself.
tls_material() {
  [[ "$SECURITY" == scram ]] || return 0
  local tls="$DIR/tls"
  if [[ -f "$tls/broker.p12" && -f "$tls/ca.crt" ]] && [[ -z "$(find "$tls/ca.crt" -mtime +20)" ]]; then
    return 0
  fi
  command -v keytool >/dev/null || die "keytool (from the Java runtime) is needed for the TLS listener"
  rm -rf "$tls"
  mkdir -p "$tls"
  keytool -genkeypair -keystore "$tls/broker.p12" -storetype PKCS12 -storepass "$TLS_STORE_PASSWORD" \
    -alias broker -keyalg EC -groupname secp256r1 -validity 30 -dname CN=127.0.0.1 \
    -ext SAN=ip:127.0.0.1 -ext BC=ca:true >>"$OUT" 2>&1 || die "keytool could not make the certificate (see $OUT)"
  keytool -exportcert -rfc -alias broker -keystore "$tls/broker.p12" -storetype PKCS12 \
    -storepass "$TLS_STORE_PASSWORD" -file "$tls/ca.crt" >>"$OUT" 2>&1 || die "keytool could not export the certificate"
}

write_config() {
  tls_material
  mkdir -p "$DIR/data"
  cat >"$DIR/server.properties" <<PROPS
# Written by scripts/kafka.sh: one node that is both broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
$(listener_config)
log.dirs=${DIR}/data
num.partitions=3
auto.create.topics.enable=true
# A single node can hold one replica of everything.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Test data: keep a day, in small segments.
log.retention.hours=24
log.segment.bytes=16777216
num.network.threads=2
num.io.threads=4
PROPS
  cat >"$DIR/log4j2.properties" <<'LOG'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
LOG
}

format_once() {
  [[ -f "$DIR/data/meta.properties" ]] && return 0
  # A cluster id is 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` makes.
  local id
  id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  local scram=() pair
  if [[ "$SECURITY" == scram ]]; then
    for pair in $SCRAM_USERS; do
      [[ "$pair" =~ ^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+$ ]] ||
        die "KAFKA_SCRAM_USERS: '$pair' is not user:password (letters, digits, '.', '_', '-')"
      scram+=(--add-scram "SCRAM-SHA-512=[name=${pair%%:*},password=${pair#*:}]")
    done
  fi
  java -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIB/*" kafka.tools.StorageTool format \
    -t "$id" -c "$DIR/server.properties" "${scram[@]}" >>"$OUT" 2>&1 || die "could not format $DIR/data (see $OUT)"
}

# True once the broker serves metadata: a kafkajs admin client (the relay's own library) describes the cluster.
answers() {
  if [[ "$SECURITY" == scram ]]; then
    (cd "$ROOT" && KAFKA_READY_SASL_USERNAME=admin KAFKA_READY_SASL_PASSWORD="$(scram_password admin)" \
      node scripts/kafka-ready.js "127.0.0.1:$PORT") >/dev/null 2>&1
  else
    (cd "$ROOT" && node scripts/kafka-ready.js "127.0.0.1:$PORT") >/dev/null 2>&1
  fi
}

start() {
  local pid
  if pid="$(running_pid)"; then
    answers || wait_ready "$pid"
    local foreign
    foreign="$(foreign_ports "$pid")"
    [[ -z "$foreign" ]] || die "$foreign; stop that process (scripts/kafka.sh stop stops ours) or set KAFKA_PORT"
    echo "kafka running (pid $pid, 127.0.0.1:$PORT), already started"
    return 0
  fi
  command -v java >/dev/null || die "a Java 17+ runtime (java) is needed to run the Kafka broker"
  if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
    die "port $PORT or $CONTROLLER_PORT on 127.0.0.1 is taken by another process; set KAFKA_PORT"
  fi
  local started=$SECONDS
  resolve
  write_config
  : >"$OUT"
  format_once
  # setsid: the broker outlives the caller (a test run's global setup) and its process group;
  # 9>&-: it must not inherit the lock, or every later call would wait for the broker to exit.
  setsid java -Xms128m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DIR/log4j2.properties" -Dkafka.logs.dir="$DIR/logs" \
    -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" >>"$OUT" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
  echo "kafka started (pid $pid, 127.0.0.1:$PORT) in $((SECONDS - started)) s"
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT)) foreign=''
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 40 "$OUT" >&2 || true
      die "the broker exited while starting (output: $OUT)"
    fi
    # Ready only when our own process holds both ports: another broker may answer on them.
    if holds_port "$pid" "$PORT" && holds_port "$pid" "$CONTROLLER_PORT" && answers; then return 0; fi
    foreign="$(foreign_ports "$pid")"
    # A process we can see holds a port: our broker cannot get it, fail now.
    [[ "$foreign" == *"answers, but from pid"* ]] && break
    sleep 0.5
  done
  tail -n 40 "$OUT" >&2 || true
  foreign="$(foreign_ports "$pid")"
  if [[ -n "$foreign" ]]; then
    kill -TERM "$pid" 2>/dev/null || true # the broker we started, which could not take its ports
    rm -f "$PID_FILE"
    die "$foreign; stop that process or set KAFKA_PORT (output: $OUT)"
  fi
  die "the broker did not answer on 127.0.0.1:$PORT within $START_TIMEOUT s (output: $OUT)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    echo "kafka stopped (was not running)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: the broker did not stop within $STOP_TIMEOUT s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  echo "kafka stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid, 127.0.0.1:$PORT)"
  else
    echo "stopped"
    return 3
  fi
}

# Sourced by its test for the functions only.
[[ "${KAFKA_SH_LIBRARY:-}" == 1 ]] && return 0

command="${1:-}"
case "$command" in
  start | stop | status) ;;
  *) die "usage: scripts/kafka.sh start|stop|status" ;;
esac

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
"$command"
