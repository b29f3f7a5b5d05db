#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with
# schemathesis (pinned in tests/api-fuzz/requirements.txt, installed into a
# venv under ${SUNPROOF_CACHE:-~/.cache/sunproof}/venv-schemathesis).
#
#   scripts/api-fuzz.sh [SESSION_JSON]     (default out/uitest/session.json)
#
# The session file is written by the UI test server
# (internal/webui/testserver, started by scripts/ui-tests.sh). One run per
# role token with every schemathesis check (no 5xx, responses match their
# schemas, negative data rejected, auth enforced, undocumented methods
# refused) plus tests/api-fuzz/hooks.py's role_enforced (x-sunproof-roles),
# and one run without a token, where every protected operation must answer
# 401. Exits non-zero on any failure. FUZZ_EXAMPLES sets the examples per
# operation for the admin run (default 40; the other runs use a quarter).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SESSION=${1:-$ROOT/out/uitest/session.json}
CACHE=${SUNPROOF_CACHE:-$HOME/.cache/sunproof}
VENV=$CACHE/venv-schemathesis
REQ=$ROOT/tests/api-fuzz/requirements.txt
EXAMPLES=${FUZZ_EXAMPLES:-40}

# The venv is rebuilt when the pinned requirements change.
stamp=$VENV/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "api-fuzz: installing $(tr '\n' ' ' <"$REQ")into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" >"$stamp"
fi

[ -f "$SESSION" ] || { echo "api-fuzz: no session file $SESSION (start the UI test server: scripts/ui-tests.sh)" >&2; exit 1; }
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$SESSION" "$1"; }
URL=$(field '["url"]')
export SUNPROOF_FUZZ_HOOKS=$ROOT/tests/api-fuzz/hooks.py
export SUNPROOF_FUZZ_DEVICE=$(field '["devices"][0]')
export SUNPROOF_FUZZ_SITE=$(curl -sf -H "Authorization: Bearer $(field '["tokens"]["admin"]')" "$URL/v1/devices/$SUNPROOF_FUZZ_DEVICE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["site_id"])')
export SUNPROOF_FUZZ_REPORT=CR-$SUNPROOF_FUZZ_DEVICE
export SUNPROOF_FUZZ_LOAN=$(field '["bank_loans"][0]')

fail=0
run() { # role, examples, extra args...
  local role=$1 n=$2; shift 2
  export SUNPROOF_FUZZ_ROLE=$role SUNPROOF_FUZZ_TOKEN=
  local auth=()
  if [ "$role" != none ]; then
    SUNPROOF_FUZZ_TOKEN=$(field "[\"tokens\"][\"$role\"]")
    auth=(-H "Authorization: Bearer $SUNPROOF_FUZZ_TOKEN")
  fi
  echo "== schemathesis as $role ($n examples per operation)"
  mkdir -p "$ROOT/out/api-fuzz"
  # One worker: CPython 3.11 before 3.11.8 can fail parsing in threads
  # ("AST constructor recursion depth mismatch", gh-106905), which
  # schemathesis does when it inspects its strategies.
  if ! (cd "$ROOT/tests/api-fuzz" && "$VENV/bin/schemathesis" --config-file schemathesis.toml run "$URL/v1/openapi.json" \
      "${auth[@]}" --max-examples "$n" --workers 1 --seed 1 \
      --report junit --report-dir "$ROOT/out/api-fuzz/$role" "$@"); then
    fail=1
  fi
}
run admin "$EXAMPLES" --checks all
q=$(( EXAMPLES / 4 > 5 ? EXAMPLES / 4 : 5 ))
for role in installer bank verifier; do
  run "$role" "$q" --checks all
done
run none "$q" --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,role_enforced
if [ "$fail" != 0 ]; then
  echo "api-fuzz: FAILED (reports in out/api-fuzz/)" >&2
  exit 1
fi
echo "api-fuzz: every run passed (reports in out/api-fuzz/)"
