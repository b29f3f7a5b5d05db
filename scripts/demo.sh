#!/usr/bin/env bash
# Runs the main job on the local stack: collector, InfluxDB writer and a
# simulated fleet of ~50 plants, each as a background process with a PID
# file under .stack/demo/. `scripts/demo.sh stop` stops them (the stack keeps
# running; `make down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${SUNPROOF_STACK_DIR:-$ROOT/.stack}/demo
BIN=$ROOT/bin
mkdir -p "$STATE"

stop_all() {
  for name in sim collector tsdb; do
    pidf=$STATE/$name.pid
    [ -f "$pidf" ] || continue
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidf"
  done
}

start() { # name, args...
  local name=$1; shift
  local pidf=$STATE/$name.pid
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$pidf"))"; return
  fi
  nohup "$@" >"$STATE/$name.log" 2>&1 &
  echo $! >"$pidf"
  echo "started $name (pid $!, log $STATE/$name.log)"
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  start) ;;
  *) echo "usage: scripts/demo.sh [start|stop]" >&2; exit 2 ;;
esac

[ -x "$BIN/sunproof" ] || make build
eval "$(scripts/stack.sh env)"
start collector "$BIN/sunproof" collect -metrics-addr 127.0.0.1:9471
start tsdb "$BIN/sunproof" write-tsdb -metrics-addr 127.0.0.1:9472
start sim "$BIN/sunproof" sim -devices "${SUNPROOF_DEMO_DEVICES:-50}" -backfill "${SUNPROOF_DEMO_BACKFILL:-6h}" -dir "${SUNPROOF_STACK_DIR:-$ROOT/.stack}/fleet"

# Wait until readings arrive in InfluxDB.
for i in $(seq 1 90); do
  n=$(curl -s -XPOST "$SUNPROOF_INFLUX_URL/query" --data-urlencode "db=sunproof" \
        --data-urlencode "q=SELECT count(seq) FROM reading" | grep -o '"values":\[\[[^]]*\]' | grep -o '[0-9]*\]$' | tr -d ']' || true)
  if [ -n "${n:-}" ] && [ "$n" -gt 0 ]; then break; fi
  sleep 2
done
cat <<MSG

Sunproof demo is running.
  readings in InfluxDB:   ${n:-0} so far (database "sunproof", measurement "reading")
  query them:             curl -XPOST '$SUNPROOF_INFLUX_URL/query' --data-urlencode db=sunproof --data-urlencode 'q=SELECT last(ac_power_w) FROM reading GROUP BY device_id'
  the fleet:              $BIN/sunproof devices list
  collector metrics:      http://127.0.0.1:9471/metrics
  writer metrics:         http://127.0.0.1:9472/metrics
  logs:                   $STATE/*.log
  stop the demo:          scripts/demo.sh stop   (then 'make down' to stop the stack)
MSG
