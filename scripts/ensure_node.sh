#!/usr/bin/env bash
# Node.js (>= 18) and the JS SDK's dev dependencies (clients/js: `ws`, pinned in
# package-lock.json), for its `node --test` suite and the reconnect-storm benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (apt)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "node $major is too old for clients/js (needs >= 18)" >&2
  exit 1
fi
lock=clients/js/package-lock.json
stamp=clients/js/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  npm ci --prefix clients/js --no-audit --no-fund --loglevel=error
fi
echo "node $(node --version), clients/js dependencies installed"
