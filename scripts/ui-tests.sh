#!/usr/bin/env bash
# The UI and API end-to-end tests, against the real local stack:
#
#   1. builds bin/sunproof and the UI test server (internal/webui/testserver),
#   2. starts the test server, which seeds a fleet on the stack (Kafka
#      registry, InfluxDB readings, anchors on geth, a proof store, an
#      anomaly scan) and serves the web UI and the API,
#   3. runs the browser tests (tests/browser, playwright-core driving
#      Debian's headless Chromium; screenshots in out/screenshots/),
#   4. fuzzes the API with schemathesis (scripts/api-fuzz.sh),
#   5. stops the server; exits non-zero if anything failed.
#
# Needs the stack (`make up`), Node ≥ 20 with npm, python3 with venv, and
# Chromium (scripts/install-browser.sh installs it with apt-get if missing).
# UI_TESTS_ADDR sets the listen address (default 127.0.0.1:0, any port).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/out
DIR=$OUT/uitest
export SUNPROOF_UI_SESSION=$DIR/session.json

if [ -x scripts/stack.sh ] && [ -z "${SUNPROOF_INFLUX_URL:-}" ]; then
  eval "$(scripts/stack.sh env)"
fi
scripts/install-browser.sh

echo "== build"
go build -o bin/ ./cmd/sunproof
go build -o bin/sunproof-uitest-server ./internal/webui/testserver

echo "== browser test dependencies"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

mkdir -p "$OUT"
rm -f "$SUNPROOF_UI_SESSION"
LOG=$OUT/uitest-server.log
bin/sunproof-uitest-server -addr "${UI_TESTS_ADDR:-127.0.0.1:0}" -dir "$DIR" >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "== seeding and starting the UI test server (log: $LOG)"
for _ in $(seq 1 300); do
  [ -f "$SUNPROOF_UI_SESSION" ] && break
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "ui-tests: the test server exited:" >&2
    tail -30 "$LOG" >&2
    exit 1
  fi
  sleep 1
done
[ -f "$SUNPROOF_UI_SESSION" ] || { echo "ui-tests: the test server did not come up in 5 minutes" >&2; tail -30 "$LOG" >&2; exit 1; }
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$SUNPROOF_UI_SESSION")
echo "   serving at $URL"

status=0
echo "== browser tests (screenshots: out/screenshots/)"
rm -rf "$OUT/screenshots"
(cd tests/browser && node --test --test-concurrency=1 ui.test.mjs) || status=1

echo "== API fuzzing"
scripts/api-fuzz.sh "$SUNPROOF_UI_SESSION" || status=1

if [ "$status" != 0 ]; then
  echo "ui-tests: FAILED" >&2
else
  echo "ui-tests: passed"
fi
exit "$status"
