#!/usr/bin/env bash
# gen.sh compiles the anchoring contract and regenerates its Go bindings:
#
#   contracts/build/SunproofAnchor.abi.json   ABI (solc standard JSON output)
#   contracts/build/SunproofAnchor.bin        creation bytecode, hex, no 0x
#   contracts/sunproofanchor/bindings.go      abigen --v2 bindings
#
# Usage: bash contracts/gen.sh [OUTDIR]
# OUTDIR defaults to contracts/ itself; check.sh passes a temporary directory.
#
# Needs node + npm (solc-js is pinned in package-lock.json and installed with
# "npm ci" when node_modules is missing or out of date) and Go. abigen is built
# once, at the go-ethereum version go.mod requires, into
# ${SUNPROOF_BIN:-$HOME/.cache/sunproof/bin}; set ABIGEN to use another binary.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)

# 1. solc-js, exactly as locked.
cd "$here"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.sunproof-lock.sha256
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_sum" ]]; then
  echo "gen.sh: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_sum" >"$stamp"
fi

# 2. Compile.
mkdir -p "$out/build" "$out/sunproofanchor"
node build.mjs --out "$out/build"

# 3. abigen at the go-ethereum version of go.mod, so the bindings match the
# bind/v2 library they are compiled against.
geth_version=$(cd "$here/.." && go list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
abigen=${ABIGEN:-}
if [[ -z $abigen ]]; then
  bindir=${SUNPROOF_BIN:-$HOME/.cache/sunproof/bin}
  abigen=$bindir/abigen
  if ! { [[ -x $abigen ]] && "$abigen" --version 2>/dev/null | grep -q "version ${geth_version#v}-"; }; then
    echo "gen.sh: building abigen $geth_version into $bindir (takes minutes, once)" >&2
    mkdir -p "$bindir"
    (cd "$here/.." && GOBIN=$bindir go install "github.com/ethereum/go-ethereum/cmd/abigen@$geth_version")
  fi
fi
"$abigen" --v2 \
  --abi "$out/build/SunproofAnchor.abi.json" \
  --bin "$out/build/SunproofAnchor.bin" \
  --pkg sunproofanchor --type SunproofAnchor \
  --out "$out/sunproofanchor/bindings.go"
chmod 0644 "$out/sunproofanchor/bindings.go"
echo "gen.sh: wrote $out/build/SunproofAnchor.{abi.json,bin} and $out/sunproofanchor/bindings.go" >&2
