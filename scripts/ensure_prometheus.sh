#!/usr/bin/env bash
# The Prometheus-compatibility tests run Debian's Prometheus against the app.
set -euo pipefail
if [ ! -x /usr/bin/prometheus ]; then
  echo "installing Debian's prometheus"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
/usr/bin/prometheus --version 2>&1 | head -1
