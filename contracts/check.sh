#!/usr/bin/env bash
# check.sh fails (exit 1) when the committed ABI, bytecode or Go bindings differ
# from what gen.sh produces from src/ with the pinned compiler. CI runs it; fix
# a failure with "make contracts" (bash contracts/gen.sh) and commit the result.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$here/gen.sh" "$tmp"

stale=0
for f in build/SunproofAnchor.abi.json build/SunproofAnchor.bin sunproofanchor/bindings.go; do
  if [[ ! -f $here/$f ]]; then
    echo "check.sh: contracts/$f is missing" >&2
    stale=1
  elif ! diff -u "$here/$f" "$tmp/$f" >"$tmp/diff" 2>&1; then
    echo "check.sh: contracts/$f is stale:" >&2
    head -n 40 "$tmp/diff" | cut -c1-200 >&2
    stale=1
  fi
done
if ((stale)); then
  echo "check.sh: regenerate with 'make contracts' (bash contracts/gen.sh) and commit" >&2
  exit 1
fi
echo "check.sh: contracts/ artifacts are up to date" >&2
