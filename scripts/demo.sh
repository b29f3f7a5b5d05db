#!/usr/bin/env bash
# Runs the main job on the local stack: a simulated fleet of ~50 plants,
# the collector, the InfluxDB writer, the anchor batcher (after deploying the
# anchoring contract on the dev chain), the anomaly analyzer and the API +
# web UI, each as a background process with a PID file under .stack/demo/.
# `scripts/demo.sh stop` stops them (the stack keeps running; `make down`
# stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${SUNPROOF_STACK_DIR:-$ROOT/.stack}/demo
BIN=$ROOT/bin
mkdir -p "$STATE"

stop_all() {
  for name in serve analyze anchor sim collector tsdb; do
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
STACK=${SUNPROOF_STACK_DIR:-$ROOT/.stack}
start collector "$BIN/sunproof" collect -metrics-addr 127.0.0.1:9471
start tsdb "$BIN/sunproof" write-tsdb -metrics-addr 127.0.0.1:9472
SIM=("$BIN/sunproof" sim -devices "${SUNPROOF_DEMO_DEVICES:-50}" -dir "$STACK/fleet")

# Register the fleet, then put its keys on chain (deploy the anchoring
# contract once per chain: dev key, chain 1337 only), and only then start
# sampling: a reading signed before its key was registered on chain cannot
# be vouched for by the chain (its proof fails the device_key step).
"${SIM[@]}" -register-only
if [ ! -f "$STACK/anchor/deployment.json" ]; then
  "$BIN/sunproof" anchor deploy
else
  "$BIN/sunproof" anchor register || true
fi
start sim "${SIM[@]}" -backfill "${SUNPROOF_DEMO_BACKFILL:-0}"
start anchor "$BIN/sunproof" anchor -interval "${SUNPROOF_DEMO_ANCHOR_INTERVAL:-1m}" -span "${SUNPROOF_DEMO_SPAN:-5m}" -metrics-addr 127.0.0.1:9473
start analyze "$BIN/sunproof" analyze -interval 5m -metrics-addr 127.0.0.1:9474

# An admin token for the UI (shown once, kept under .stack/demo/).
if [ ! -s "$STATE/admin.token" ]; then
  "$BIN/sunproof" serve token add -role admin -name demo >"$STATE/admin.token"
fi
# A loan book for the simulated plants that carry a loan (every fifth).
LOANS=$STATE/loans.yaml
if [ ! -s "$LOANS" ]; then
  {
    echo "# Demo loan book (package loans documents the format)."
    echo "loans:"
    for i in $(seq 0 5 $(( ${SUNPROOF_DEMO_DEVICES:-50} - 1 ))); do
      printf '  - id: LOAN-sim-%04d\n    borrower: Household %d\n    site_id: sim-site-%04d\n' "$i" "$i" $((i / 2))
      printf '    principal_cny: 42000\n    tariff_cny_per_kwh: 0.3844\n    subsidy_cny_per_kwh: 0.03\n    schedule:\n'
      for m in 0 1 2 3 4 5 6 7 8 9 10 11; do
        printf '      - {month: %s, amount_cny: 380}\n' "$(date -u -d "$(date -u +%Y-%m-01) -1 month +$m month" +%Y-%m)"
      done
    done
  } >"$LOANS"
fi

# serve opens the proof store read-only: wait until the batcher created it.
for _ in $(seq 1 60); do [ -f "$STACK/proofs/STORE" ] && break; sleep 1; done
start serve "$BIN/sunproof" serve -addr 127.0.0.1:8080 -metrics-addr 127.0.0.1:9475 -loans "$LOANS"

# Wait until readings arrive in InfluxDB.
for i in $(seq 1 90); do
  n=$(curl -s -XPOST "$SUNPROOF_INFLUX_URL/query" --data-urlencode "db=sunproof" \
        --data-urlencode "q=SELECT count(seq) FROM reading" | grep -o '"values":\[\[[^]]*\]' | grep -o '[0-9]*\]$' | tr -d ']' || true)
  if [ -n "${n:-}" ] && [ "$n" -gt 0 ]; then break; fi
  sleep 2
done
cat <<MSG

Sunproof demo is running.
  web UI:                 http://127.0.0.1:8080/   (log in with the token in $STATE/admin.token)
  API:                    http://127.0.0.1:8080/v1/openapi.json
  readings in InfluxDB:   ${n:-0} so far (database "sunproof", measurement "reading")
  the fleet:              $BIN/sunproof devices list
  a proof, once anchored: $BIN/sunproof proof <device> <seq> > b.json && $BIN/sunproof verify b.json
  metrics:                http://127.0.0.1:9471/metrics (collector) … 9475 (serve)
  logs:                   $STATE/*.log
  stop the demo:          scripts/demo.sh stop   (then 'make down' to stop the stack)
MSG
