#!/usr/bin/env bash
# Installs headless Chromium for the browser tests (tests/browser) from
# Debian's packages `chromium` and `chromium-driver`, unless
# /usr/bin/chromium is already there. Idempotent; needs root (or sudo) the
# first time. Playwright's own browser download does not work here: the
# tests drive this Chromium through playwright-core's executablePath.
set -euo pipefail

CHROMIUM=${SUNPROOF_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ] && "$CHROMIUM" --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null)"
  exit 0
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-browser: need root or sudo to apt-get install chromium" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "chromium: $("$CHROMIUM" --version 2>/dev/null)"
