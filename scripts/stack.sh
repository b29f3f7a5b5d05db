#!/usr/bin/env bash
# Sunproof local stack: Mosquitto (MQTT + MQTT/TLS), Apache Kafka 4.x (KRaft), InfluxDB 1.8.10, geth --dev.
#
#   scripts/stack.sh install          fetch/build everything into $SUNPROOF_CACHE (cheap when cached)
#   scripts/stack.sh up               install, then start whatever is not running; wait until healthy
#   scripts/stack.sh down [NAME...]   stop our servers (SIGTERM, wait, SIGKILL); data is kept
#   scripts/stack.sh status           one line per server: running/stopped, pid, port(s), health
#   scripts/stack.sh env              print `export SUNPROOF_...=` lines (eval "$(scripts/stack.sh env)")
#   scripts/stack.sh issue-cert NAME OUTDIR   client certificate CN=NAME signed by the stack CA
#   scripts/stack.sh check            smoke test of the running stack (MQTT ACLs, Kafka, InfluxDB, geth)
#   scripts/stack.sh reset NAME...    stop NAME and delete its data (e.g. a chain broken by a crash)
#   scripts/stack.sh clean            down, then delete $SUNPROOF_STACK_DIR (all server data!)
#
# Everything listens on 127.0.0.1 only. See docs/stack.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TPL="$REPO/scripts/stack"
STACK="$(realpath -m "${SUNPROOF_STACK_DIR:-$REPO/.stack}")"
CACHE="$(realpath -m "${SUNPROOF_CACHE:-$HOME/.cache/sunproof}")"

MQTT_PORT="${SUNPROOF_MQTT_PORT:-1883}"
MQTTS_PORT="${SUNPROOF_MQTTS_PORT:-8883}"
KAFKA_PORT="${SUNPROOF_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${SUNPROOF_KAFKA_CONTROLLER_PORT:-9093}"
INFLUX_PORT="${SUNPROOF_INFLUX_PORT:-8086}"
INFLUX_RPC_PORT="${SUNPROOF_INFLUX_RPC_PORT:-8088}"
ETH_PORT="${SUNPROOF_ETH_PORT:-8545}"

MOSQUITTO_MIN_VERSION=2.0.21
KAFKA_VERSION="${SUNPROOF_KAFKA_VERSION:-4.1.1}"
INFLUX_VERSION=v1.8.10
GETH_VERSION=v1.17.10
INFLUX_DB=sunproof
CHAIN_ID=1337

KAFKA_LIB="$CACHE/kafka/$KAFKA_VERSION/lib"
INFLUXD="$CACHE/influxdb/$INFLUX_VERSION/influxd"
GETH="$CACHE/geth/$GETH_VERSION/geth"

SERVERS=(mosquitto kafka influxdb geth)

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# retry CMD...: 3 attempts, backoff 5 s then 15 s.
retry() {
  local attempt=1 delay=5
  until "$@"; do
    if (( attempt >= 3 )); then
      log "failed after $attempt attempts: $*"
      return 1
    fi
    log "attempt $attempt failed, retrying in ${delay}s: $*"
    sleep "$delay"
    attempt=$((attempt + 1)); delay=$((delay * 3))
  done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# render TEMPLATE OUT: substitute @PLACEHOLDERS@
render() {
  local user_line="# (not root: runs as the invoking user)"
  [[ "$(id -u)" == 0 ]] && user_line="user root"
  sed -e "s|@STACK@|$STACK|g" \
      -e "s|@MQTT_PORT@|$MQTT_PORT|g" -e "s|@MQTTS_PORT@|$MQTTS_PORT|g" \
      -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@INFLUX_PORT@|$INFLUX_PORT|g" -e "s|@INFLUX_RPC_PORT@|$INFLUX_RPC_PORT|g" \
      -e "s|@USER_LINE@|$user_line|g" \
      "$1" > "$2.tmp"
  mv -f "$2.tmp" "$2"
}

# with_lock NAME CMD...: serialise on $CACHE/locks/NAME.lock (several checkouts share one cache)
with_lock() {
  local name="$1"; shift
  mkdir -p "$CACHE/locks"
  (
    flock 8
    "$@"
  ) 8>"$CACHE/locks/$name.lock"
}

# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------

mosquitto_version() {
  command -v mosquitto >/dev/null 2>&1 || return 1
  # `mosquitto -h` exits non-zero (pipefail!)
  { mosquitto -h 2>&1 || true; } | awk 'NR == 1 && $2 == "version" { print $3 }'
}

mosquitto_ok() {
  local v
  v="$(mosquitto_version)" || return 1
  [[ -n "$v" ]] || return 1
  command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1 || return 1
  dpkg --compare-versions "$v" ge "$MOSQUITTO_MIN_VERSION"
}

APT=(apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)

install_mosquitto() {
  if mosquitto_ok && command -v kcat >/dev/null 2>&1; then
    return 0
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      mosquitto_ok || die "mosquitto >= $MOSQUITTO_MIN_VERSION (+ mosquitto-clients) missing and not root: install them by hand"
      log "WARNING: kcat missing and not root: Kafka probes use TopicCommand (slower)"
      return 0
    fi
    sudo=(sudo)
  fi
  # Another apt/dpkg run (e.g. one started in the background) may hold the lock:
  # DPkg::Lock::Timeout makes apt-get wait for it instead of failing.
  if ! mosquitto_ok; then
    log "installing mosquitto >= $MOSQUITTO_MIN_VERSION (have: $(mosquitto_version || true))"
    local codename target=()
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    if [[ "$codename" == bookworm ]]; then
      # bookworm has 2.0.11, which miscounts its queue and drops QoS 1 messages early
      if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo 'deb http://deb.debian.org/debian bookworm-backports main' |
          "${sudo[@]}" tee /etc/apt/sources.list.d/backports.list >/dev/null
      fi
      target=(-t bookworm-backports)
    fi
    retry "${sudo[@]}" "${APT[@]}" update -q
    retry "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q \
      "${target[@]}" mosquitto mosquitto-clients
    # The package's own service would bind 0.0.0.0:1883; we run our own process.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
      log "stopping and disabling the system mosquitto service (we run our own)"
      "${sudo[@]}" systemctl disable --now mosquitto || true
    fi
    mosquitto_ok || die "mosquitto still missing or older than $MOSQUITTO_MIN_VERSION after apt-get install"
  fi
  if ! command -v kcat >/dev/null 2>&1; then
    # kcat is optional (fast Kafka health probe); Kafka's own TopicCommand is the fallback.
    log "installing kcat"
    if ! retry "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q kcat; then
      retry "${sudo[@]}" "${APT[@]}" update -q &&
        retry "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q kcat ||
        log "WARNING: kcat not installed; Kafka probes use TopicCommand (slower)"
    fi
  fi
}

kafka_fetch() {
  [[ -f "$KAFKA_LIB/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found: apt-get install maven"
  command -v java >/dev/null 2>&1 || die "java (17+) not found"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIB"
  local tmp="$KAFKA_LIB.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp" "$CACHE/logs"
  local logf="$CACHE/logs/kafka-mvn.log"
  retry mvn -B -q -Dstyle.color=never -f "$TPL/kafka/pom.xml" \
    -Dmaven.repo.local="$CACHE/m2" -Dkafka.version="$KAFKA_VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime >>"$logf" 2>&1 ||
    { tail -30 "$logf" >&2; rm -rf "$tmp"; die "fetching Kafka $KAFKA_VERSION jars failed (log: $logf)"; }
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIB"; mv "$tmp" "$KAFKA_LIB"
}

# wait_foreign_build PATTERN NAME: a `go install` of the same target started outside this
# script (same binary, same GOBIN) is still running: wait for it instead of racing it.
wait_foreign_build() {
  local pattern="$1" name="$2" waited=0
  while pgrep -f "$pattern" >/dev/null 2>&1; do
    (( waited == 0 )) && log "a build of $name is already running (pgrep -f '$pattern'); waiting for it"
    sleep 10; waited=$((waited + 10))
    (( waited > 5400 )) && die "gave up waiting for the running $name build after ${waited}s"
  done
  (( waited > 0 )) && log "the running $name build ended after ~${waited}s of waiting"
  return 0
}

# go_build NAME BIN LOG GO-INSTALL-ARGS...: GOBIN=dir(BIN) go install ARGS, with retries; log appended.
go_build() {
  local name="$1" bin="$2" logf="$3"; shift 3
  [[ -x "$bin" ]] && return 0
  command -v go >/dev/null 2>&1 || die "go not found"
  mkdir -p "$(dirname "$bin")" "$CACHE/logs"
  log "building $name (slow on 2 cores; log: $logf)"
  local start rc=0; start="$(now)"
  # Outside the checkout so the project's go.mod/GOFLAGS cannot interfere.
  (cd "$CACHE" && retry env GOBIN="$(dirname "$bin")" GOFLAGS= GO111MODULE=on go install "$@") >>"$logf" 2>&1 || rc=$?
  echo "done $rc" >>"$logf"
  (( rc == 0 )) && [[ -x "$bin" ]] || { tail -30 "$logf" >&2; die "building $name failed (rc $rc)"; }
  log "built $name in $(elapsed "$start")s"
}

install_influxdb() {
  [[ -x "$INFLUXD" ]] && return 0
  wait_foreign_build "go install.*cmd/influxd@$INFLUX_VERSION" "influxd $INFLUX_VERSION"
  go_build "influxd $INFLUX_VERSION" "$INFLUXD" "$CACHE/logs/influx.log" \
    -trimpath -ldflags "-s -w -X main.version=${INFLUX_VERSION#v} -X main.branch=1.8 -X main.commit=$INFLUX_VERSION" \
    "github.com/influxdata/influxdb/cmd/influxd@$INFLUX_VERSION"
}

install_geth() {
  [[ -x "$GETH" ]] && return 0
  wait_foreign_build "go install.*cmd/geth@$GETH_VERSION" "geth $GETH_VERSION"
  go_build "geth $GETH_VERSION" "$GETH" "$CACHE/logs/geth.log" \
    "github.com/ethereum/go-ethereum/cmd/geth@$GETH_VERSION"
}

cmd_install() {
  local start; start="$(now)"
  mkdir -p "$CACHE"
  with_lock apt install_mosquitto
  with_lock "kafka-$KAFKA_VERSION" kafka_fetch
  with_lock "influxd-$INFLUX_VERSION" install_influxdb
  with_lock "geth-$GETH_VERSION" install_geth
  log "install ok ($(elapsed "$start")s): mosquitto $(mosquitto_version), kafka $KAFKA_VERSION, influxd $INFLUX_VERSION, geth $GETH_VERSION"
}

# ---------------------------------------------------------------------------------------------
# certificates
# ---------------------------------------------------------------------------------------------

ensure_ca() {
  local ca="$STACK/ca"
  [[ -s "$ca/ca.crt" && -s "$ca/ca.key" ]] && return 0
  mkdir -p "$ca"; chmod 700 "$ca"
  log "creating CA in $ca"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ca/ca.key.tmp" 2>/dev/null
  openssl req -x509 -new -key "$ca/ca.key.tmp" -sha256 -days 3650 -subj "/O=Sunproof/CN=Sunproof local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$ca/ca.crt.tmp"
  chmod 600 "$ca/ca.key.tmp"
  mv -f "$ca/ca.key.tmp" "$ca/ca.key"; mv -f "$ca/ca.crt.tmp" "$ca/ca.crt"
}

# sign_cert CN OUTCRT OUTKEY KIND(server|client)
sign_cert() {
  local cn="$1" crt="$2" key="$3" kind="$4" ext
  local tmp; tmp="$(mktemp -d)"
  mkdir -p "$(dirname "$crt")" "$(dirname "$key")"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key" 2>/dev/null
  openssl req -new -key "$tmp/key" -subj "/O=Sunproof/CN=$cn" -out "$tmp/csr"
  if [[ "$kind" == server ]]; then
    ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
  else
    ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  fi
  printf '%s\nauthorityKeyIdentifier=keyid\n' "$ext" > "$tmp/ext"
  openssl x509 -req -in "$tmp/csr" -CA "$STACK/ca/ca.crt" -CAkey "$STACK/ca/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "$tmp/ext" -out "$tmp/crt" 2>/dev/null
  chmod 600 "$tmp/key"
  mv -f "$tmp/key" "$key"; mv -f "$tmp/crt" "$crt"
  rm -rf "$tmp"
}

cmd_issue_cert() {
  [[ $# -eq 2 ]] || die "usage: scripts/stack.sh issue-cert NAME OUTDIR   (writes OUTDIR/NAME.crt, OUTDIR/NAME.key, OUTDIR/ca.crt)"
  local name="$1" out="$2"
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "certificate name must match [A-Za-z0-9._-]+ (it becomes an MQTT username/topic level): $name"
  mkdir -p "$STACK"
  ensure_ca
  mkdir -p "$out"
  sign_cert "$name" "$out/$name.crt" "$out/$name.key" client
  cp -f "$STACK/ca/ca.crt" "$out/ca.crt"
  echo "$out/$name.crt"
}

ensure_certs() {
  ensure_ca
  local d="$STACK/mosquitto/certs"
  if [[ ! -s "$d/server.crt" || ! -s "$d/server.key" ]] ||
     ! openssl verify -CAfile "$STACK/ca/ca.crt" "$d/server.crt" >/dev/null 2>&1; then
    sign_cert localhost "$d/server.crt" "$d/server.key" server
  fi
  if [[ ! -s "$STACK/certs/collector.crt" ]] ||
     ! openssl verify -CAfile "$STACK/ca/ca.crt" "$STACK/certs/collector.crt" >/dev/null 2>&1; then
    sign_cert collector "$STACK/certs/collector.crt" "$STACK/certs/collector.key" client
    cp -f "$STACK/ca/ca.crt" "$STACK/certs/ca.crt"
  fi
}

# ---------------------------------------------------------------------------------------------
# process management
# ---------------------------------------------------------------------------------------------

pidfile() { echo "$STACK/$1/$1.pid"; }
proc_name() {
  case "$1" in
    mosquitto) echo mosquitto ;; kafka) echo java ;; influxdb) echo influxd ;; geth) echo geth ;;
  esac
}

# server_pid NAME: prints the pid if the pid file points at a live process of the right kind
server_pid() {
  local pf pid exe
  pf="$(pidfile "$1")"
  [[ -s "$pf" ]] || return 1
  pid="$(tr -dc 0-9 < "$pf")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  exe="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk '{ print $1 }')"
  [[ "$(basename "$exe")" == "$(proc_name "$1")" ]] || return 1
  echo "$pid"
}

ports_of() {
  case "$1" in
    mosquitto) echo "$MQTT_PORT $MQTTS_PORT" ;;
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    influxdb) echo "$INFLUX_PORT $INFLUX_RPC_PORT" ;;
    geth) echo "$ETH_PORT" ;;
  esac
}

# start_bg NAME LOG CMD...: detached (own session, no stdin), pid file written
start_bg() {
  local name="$1" out="$2"; shift 2
  # Non-interactive bash: the background child is not a group leader, so setsid execs in place
  # and $! is the server's pid.
  # 8>&- 9>&-: the servers must not inherit our lock descriptors (they would hold the locks forever).
  nohup setsid "$@" >>"$out" 2>&1 </dev/null 8>&- 9>&- &
  echo $! > "$(pidfile "$name")"
}

check_ports_free() {
  local name="$1" p
  for p in $(ports_of "$name"); do
    if port_open "$p"; then
      die "$name: port 127.0.0.1:$p is already in use by another process (not ours: no live pid in $(pidfile "$name")). $(ss -ltnp "sport = :$p" 2>/dev/null | tail -n +2 | head -2)"
    fi
  done
}

# --- health probes ---
probe_mosquitto() {
  timeout 5 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t '$SYS/broker/version' -C 1 -W 3 >/dev/null 2>&1 &&
    port_open "$MQTTS_PORT"
}
probe_kafka() {
  port_open "$KAFKA_PORT" || return 1
  if command -v kcat >/dev/null 2>&1; then
    timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 5 2>/dev/null | grep -q '1 brokers:'
  else
    timeout 30 java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1
  fi
}
probe_influxdb() { curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$INFLUX_PORT/ping"; }
probe_geth() {
  curl -fsS -m 3 -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' \
    "http://127.0.0.1:$ETH_PORT" 2>/dev/null | grep -q '"result":"0x'
}

# wait_healthy NAME TIMEOUT
wait_healthy() {
  local name="$1" timeout="$2" start="${UP_START:-$(now)}"
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    if "probe_$name"; then
      log "$name healthy (t+$(elapsed "$start")s)"
      return 0
    fi
    if ! server_pid "$name" >/dev/null; then
      log "$name died during start-up; last log lines:"
      tail -25 "$(server_log "$name")" >&2 || true
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      log "$name not healthy after ${timeout}s; last log lines:"
      tail -25 "$(server_log "$name")" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

server_log() {
  case "$1" in
    mosquitto) echo "$STACK/mosquitto/mosquitto.log" ;;
    kafka) echo "$STACK/kafka/kafka.out" ;;
    influxdb) echo "$STACK/influxdb/influxd.log" ;;
    geth) echo "$STACK/geth/geth.log" ;;
  esac
}

# --- starters: each returns 0 if it started a process or one already runs ---
start_mosquitto() {
  mkdir -p "$STACK/mosquitto/data"
  ensure_certs
  render "$TPL/mosquitto/mosquitto.conf.in" "$STACK/mosquitto/mosquitto.conf"
  cp -f "$TPL/mosquitto/acl" "$STACK/mosquitto/acl"
  check_ports_free mosquitto
  start_bg mosquitto "$STACK/mosquitto/mosquitto.out" mosquitto -c "$STACK/mosquitto/mosquitto.conf"
}

kafka_java_opts() {
  echo "-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true" \
       "-Dlog4j2.configurationFile=$STACK/kafka/log4j2.properties -Dkafka.logs.dir=$STACK/kafka/logs"
}

start_kafka() {
  mkdir -p "$STACK/kafka/data" "$STACK/kafka/logs"
  render "$TPL/kafka/server.properties.in" "$STACK/kafka/server.properties"
  cp -f "$TPL/kafka/log4j2.properties" "$STACK/kafka/log4j2.properties"
  local cp="$KAFKA_LIB/*" cid
  if [[ ! -f "$STACK/kafka/data/meta.properties" ]]; then
    if [[ -s "$STACK/kafka/cluster.id" ]]; then
      cid="$(cat "$STACK/kafka/cluster.id")"
    else
      # what `kafka.tools.StorageTool random-uuid` prints (base64url UUID, 22 chars, not starting
      # with '-'), without paying for a JVM start
      cid=-
      while [[ "$cid" == -* ]]; do
        cid="$(openssl rand 16 | base64 | tr '+/' '-_' | tr -d '=\n')"
      done
      echo "$cid" > "$STACK/kafka/cluster.id"
    fi
    log "formatting Kafka storage (cluster id $cid)"
    java -Xmx256m "-Dlog4j2.configurationFile=$STACK/kafka/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$cid" -c "$STACK/kafka/server.properties" >>"$STACK/kafka/kafka.out" 2>&1 ||
      { tail -5 "$STACK/kafka/kafka.out" >&2; die "kafka storage format failed"; }
  fi
  check_ports_free kafka
  # shellcheck disable=SC2046
  start_bg kafka "$STACK/kafka/kafka.out" java $(kafka_java_opts) -cp "$cp" kafka.Kafka "$STACK/kafka/server.properties"
}

start_influxdb() {
  mkdir -p "$STACK/influxdb"
  render "$TPL/influxdb/influxdb.conf.in" "$STACK/influxdb/influxdb.conf"
  check_ports_free influxdb
  start_bg influxdb "$STACK/influxdb/influxd.log" "$INFLUXD" run -config "$STACK/influxdb/influxdb.conf"
}

# --state.scheme hash --gcmode archive: every block's state is written to disk, so after a crash
# (SIGKILL, OOM, machine stop) geth rewinds a few blocks and goes on. With the default path scheme
# a SIGKILLed dev node came back at head 0x1 with "missing trie node ... state is not available"
# and never sealed a block again (tested with 1.17.10).
GETH_STATE=(--state.scheme hash)
geth_args() {
  echo --dev --dev.period 1 --miner.gaslimit 30000000 \
    --http --http.addr 127.0.0.1 --http.port "$ETH_PORT" --http.api eth,net,web3,txpool \
    --http.vhosts localhost,127.0.0.1 \
    --datadir "$STACK/geth" --nodiscover --maxpeers 0 --ipcdisable \
    "${GETH_STATE[@]}" --gcmode archive --cache 256 --verbosity 2
}

start_geth() {
  mkdir -p "$STACK/geth"
  if [[ ! -d "$STACK/geth/geth/chaindata" ]]; then
    log "geth init with scripts/stack/geth/genesis-prague.json (chain id $CHAIN_ID, Prague/Osaka, 30M gas)"
    "$GETH" --verbosity 2 init "${GETH_STATE[@]}" --datadir "$STACK/geth" "$TPL/geth/genesis-prague.json" >>"$STACK/geth/geth.log" 2>&1 ||
      { tail -5 "$STACK/geth/geth.log" >&2; die "geth init failed"; }
  fi
  check_ports_free geth
  # shellcheck disable=SC2046
  start_bg geth "$STACK/geth/geth.log" "$GETH" $(geth_args)
}

influx_create_db() {
  curl -fsS -m 10 -o /dev/null -XPOST "http://127.0.0.1:$INFLUX_PORT/query" \
    --data-urlencode "q=CREATE DATABASE $INFLUX_DB"
}

health_timeout() {
  case "$1" in mosquitto) echo 15 ;; kafka) echo 90 ;; influxdb) echo 30 ;; geth) echo 60 ;; esac
}

cmd_up() {
  local start; start="$(now)"; UP_START="$start"
  cmd_install
  mkdir -p "$STACK"
  exec 9>"$STACK/.lock"; flock 9
  local name started=() failed=0
  # preflight: refuse before starting anything if a port we need is held by a stranger
  for name in "${SERVERS[@]}"; do
    server_pid "$name" >/dev/null || check_ports_free "$name"
  done
  for name in "${SERVERS[@]}"; do
    if server_pid "$name" >/dev/null; then
      log "$name already running (pid $(server_pid "$name"))"
      started+=("$name")    # still verify health below
      continue
    fi
    log "starting $name"
    "start_$name"
    started+=("$name")
  done
  for name in "${started[@]}"; do
    wait_healthy "$name" "$(health_timeout "$name")" || failed=1
  done
  if server_pid influxdb >/dev/null && probe_influxdb; then
    influx_create_db || { log "CREATE DATABASE $INFLUX_DB failed"; failed=1; }
  fi
  (( failed == 0 )) || die "stack not healthy (logs under $STACK)"
  log "stack up in $(elapsed "$start")s (state: $STACK)"
  cmd_status
}

# stop_server NAME: SIGTERM, wait up to 40 s, then SIGKILL
stop_server() {
  local name="$1" pid i
  pid="$(server_pid "$name")" || { rm -f "$(pidfile "$name")"; return 0; }
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < 80; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) still running after 40s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pidfile "$name")"
}

cmd_down() {
  local names=("$@") name
  (( ${#names[@]} )) || names=(geth influxdb kafka mosquitto)
  for name in "${names[@]}"; do
    [[ " ${SERVERS[*]} " == *" $name "* ]] || die "unknown server '$name' (one of: ${SERVERS[*]})"
  done
  [[ -d "$STACK" ]] || { log "nothing to stop ($STACK does not exist)"; return 0; }
  exec 9>"$STACK/.lock"; flock 9
  local pids=()
  # stop in parallel (Kafka's controlled shutdown takes a few seconds)
  for name in "${names[@]}"; do
    stop_server "$name" &
    pids+=($!)
  done
  local p rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}

cmd_status() {
  local name pid state health
  for name in "${SERVERS[@]}"; do
    if pid="$(server_pid "$name")"; then
      state=running
      if "probe_$name"; then health=healthy; else health=unhealthy; fi
    else
      state=stopped; pid=-; health=-
    fi
    printf '%-10s %-8s pid=%-8s port=%-12s %s\n' "$name" "$state" "$pid" "$(ports_of "$name" | tr ' ' ',')" "$health"
  done
}

cmd_env() {
  cat <<EOF
export SUNPROOF_STACK_DIR=$STACK
export SUNPROOF_MQTT_URL=tcp://127.0.0.1:$MQTT_PORT
export SUNPROOF_MQTTS_URL=ssl://127.0.0.1:$MQTTS_PORT
export SUNPROOF_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export SUNPROOF_INFLUX_URL=http://127.0.0.1:$INFLUX_PORT
export SUNPROOF_INFLUX_DB=$INFLUX_DB
export SUNPROOF_ETH_RPC=http://127.0.0.1:$ETH_PORT
export SUNPROOF_CHAIN_ID=$CHAIN_ID
export SUNPROOF_CA_DIR=$STACK/ca
export SUNPROOF_COLLECTOR_CERT=$STACK/certs/collector.crt
export SUNPROOF_COLLECTOR_KEY=$STACK/certs/collector.key
EOF
}

# ---------------------------------------------------------------------------------------------
# check: end-to-end smoke test of the running stack (MQTT ACLs, Kafka, InfluxDB, geth)
# ---------------------------------------------------------------------------------------------

CHECK_OK=0
CHECK_FAILED=0
ok() { CHECK_OK=$((CHECK_OK + 1)); printf 'ok    %s\n' "$*"; }
bad() { CHECK_FAILED=$((CHECK_FAILED + 1)); printf 'FAIL  %s\n' "$*"; }

cmd_check() {
  local name
  for name in "${SERVERS[@]}"; do
    server_pid "$name" >/dev/null || die "$name is not running: scripts/stack.sh up"
  done
  local t; t="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$t'" RETURN
  local ca="$STACK/ca/ca.crt" id="chk$$" out
  local other="${id}x"
  cmd_issue_cert "$id" "$t" >/dev/null
  cmd_issue_cert "$other" "$t" >/dev/null
  local plain=(-h 127.0.0.1 -p "$MQTT_PORT")
  local tlsdev=(-h 127.0.0.1 -p "$MQTTS_PORT" --cafile "$ca" --cert "$t/$id.crt" --key "$t/$id.key")
  local tlsoth=(-h 127.0.0.1 -p "$MQTTS_PORT" --cafile "$ca" --cert "$t/$other.crt" --key "$t/$other.key")
  local tlscol=(-h 127.0.0.1 -p "$MQTTS_PORT" --cafile "$ca" --cert "$STACK/certs/collector.crt" --key "$STACK/certs/collector.key")

  # 1. plain listener, anonymous
  mosquitto_sub "${plain[@]}" -t "check/$id" -C 1 -W 5 > "$t/plain" 2>&1 &
  sleep 0.5
  mosquitto_pub "${plain[@]}" -t "check/$id" -m hello -q 1 || true
  wait $! || true
  [[ "$(cat "$t/plain")" == hello ]] && ok "mqtt plain publish/subscribe" || bad "mqtt plain: got '$(cat "$t/plain")'"

  # 2. TLS listener without a client certificate is refused
  if mosquitto_pub -h 127.0.0.1 -p "$MQTTS_PORT" --cafile "$ca" -t "pv/$id/readings" -m x -q 1 >/dev/null 2>&1; then
    bad "mqtts accepted a client without certificate"
  else
    ok "mqtts refuses a client without certificate"
  fi

  # 3. device may publish its own readings, not another device's; collector (shared sub) reads
  mosquitto_sub "${plain[@]}" -t "pv/+/readings" -v -C 1 -W 6 > "$t/all" 2>&1 &
  local p1=$!
  mosquitto_sub "${tlscol[@]}" -t "\$share/check/pv/+/readings" -v -C 1 -W 6 > "$t/coll" 2>&1 &
  local p2=$!
  sleep 0.7
  mosquitto_pub "${tlsdev[@]}" -t "pv/$other/readings" -m forged -q 1 || true
  mosquitto_pub "${tlsdev[@]}" -t "pv/$id/readings" -m own -q 1 || true
  wait $p1 || true; wait $p2 || true
  out="$(cat "$t/all")"
  [[ "$out" == "pv/$id/readings own" ]] && ok "device publish to own topic delivered, to foreign topic dropped" ||
    bad "device ACL: first delivery was '$out' (want 'pv/$id/readings own')"
  out="$(cat "$t/coll")"
  [[ "$out" == "pv/$id/readings own" ]] && ok "collector reads pv/+/readings via \$share over TLS" ||
    bad "collector shared subscription: got '$out'"

  # 4. collector writes acks; only the addressed device receives them
  mosquitto_sub "${tlsdev[@]}" -t "pv/$id/ack" -C 1 -W 5 > "$t/ack" 2>&1 &
  p1=$!
  mosquitto_sub "${tlsoth[@]}" -t "pv/$id/ack" -C 1 -W 3 > "$t/ackoth" 2>&1 &
  p2=$!
  sleep 0.7
  mosquitto_pub "${tlscol[@]}" -t "pv/$id/ack" -m 42 -q 1 || true
  wait $p1 || true; wait $p2 || true
  [[ "$(cat "$t/ack")" == 42 ]] && ok "collector ack reaches its device" || bad "ack: got '$(cat "$t/ack")'"
  grep -q 42 "$t/ackoth" && bad "another device read a foreign ack topic" || ok "a device cannot read another device's ack"

  # 5. Kafka: metadata, create a topic, produce and consume
  local topic="stack.check"
  if timeout 60 java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
       --bootstrap-server "127.0.0.1:$KAFKA_PORT" --create --if-not-exists --topic "$topic" \
       --partitions 1 --config cleanup.policy=compact >/dev/null 2>&1; then
    ok "kafka create compacted topic"
  else
    bad "kafka create topic"
  fi
  if command -v kcat >/dev/null 2>&1; then
    echo "$id:v$id" | kcat -b "127.0.0.1:$KAFKA_PORT" -t "$topic" -P -K: 2>"$t/kp" || true
    if timeout 20 kcat -b "127.0.0.1:$KAFKA_PORT" -t "$topic" -C -e -q -f '%k=%s\n' 2>/dev/null | grep -qx "$id=v$id"; then
      ok "kafka produce/consume"
    else
      bad "kafka produce/consume ($(cat "$t/kp"))"
    fi
  fi

  # 6. InfluxDB v2-compatible write + Flux query
  local ts; ts="$(date +%s)"
  curl -fsS -m 10 -XPOST "http://127.0.0.1:$INFLUX_PORT/api/v2/write?bucket=$INFLUX_DB&precision=s" \
    --data-binary "stack_check,id=$id v=1i $ts" || true
  if curl -fsS -m 20 -XPOST "http://127.0.0.1:$INFLUX_PORT/api/v2/query" -H 'Content-Type: application/vnd.flux' \
      -H 'Accept: application/csv' \
      -d "from(bucket:\"$INFLUX_DB\") |> range(start:-1h) |> filter(fn:(r) => r._measurement == \"stack_check\" and r.id == \"$id\")" |
      grep -q ",v,stack_check,"; then
    ok "influxdb /api/v2/write + Flux /api/v2/query"
  else
    bad "influxdb v2 write/query"
  fi
  curl -fsS -m 10 -o /dev/null -XPOST "http://127.0.0.1:$INFLUX_PORT/query?db=$INFLUX_DB" \
    --data-urlencode "q=DROP MEASUREMENT stack_check" || true

  # 7. geth: chain id and a moving head
  local rpc=(curl -fsS -m 5 -H 'Content-Type: application/json' "http://127.0.0.1:$ETH_PORT")
  out="$("${rpc[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' || true)"
  [[ "$out" == *'"result":"0x539"'* ]] && ok "geth chain id 1337" || bad "geth chain id: $out"
  local b1 b2
  b1="$("${rpc[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' | sed 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/')"
  sleep 2.2
  b2="$("${rpc[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' | sed 's/.*"result":"\(0x[0-9a-f]*\)".*/\1/')"
  [[ "$b1" =~ ^0x[0-9a-f]+$ ]] || b1=0
  [[ "$b2" =~ ^0x[0-9a-f]+$ ]] || b2=0
  (( b2 > b1 )) && ok "geth produces blocks ($((b1)) -> $((b2)))" || bad "geth head not moving ($b1 -> $b2)"

  printf 'stack check: %d ok, %d failed\n' "$CHECK_OK" "$CHECK_FAILED"
  (( CHECK_FAILED == 0 ))
}

cmd_reset() {
  [[ $# -ge 1 ]] || die "usage: scripts/stack.sh reset NAME...   (deletes that server's data; NAME: ${SERVERS[*]})"
  cmd_down "$@"
  local name
  for name in "$@"; do
    case "$name" in
      mosquitto) rm -rf "$STACK/mosquitto/data" ;;
      kafka) rm -rf "$STACK/kafka/data" "$STACK/kafka/cluster.id" ;;
      influxdb) rm -rf "$STACK/influxdb/meta" "$STACK/influxdb/data" "$STACK/influxdb/wal" ;;
      geth) rm -rf "$STACK/geth" ;;
    esac
    log "reset $name: data deleted; 'scripts/stack.sh up' starts it afresh"
  done
}

cmd_clean() {
  cmd_down
  log "removing $STACK"
  rm -rf "$STACK"
}

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    issue-cert) cmd_issue_cert "$@" ;;
    check) cmd_check ;;
    reset) cmd_reset "$@" ;;
    clean) cmd_clean ;;
    -h|--help|help|"") usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
