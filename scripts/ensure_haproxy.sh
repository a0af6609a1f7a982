#!/usr/bin/env bash
# The full stack's front door is Debian's HAProxy (deploy/haproxy.cfg).
set -euo pipefail
if ! command -v haproxy >/dev/null 2>&1; then
  echo "installing Debian's haproxy"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq haproxy >/dev/null
fi
haproxy -v | sed -n 1p
