#!/usr/bin/env bash
# The benchmarks' HTTP load generator is Debian's wrk (C, cheaper than what it measures);
# the suite runs one benchmark quickly (tests/proof/test_bench_runner.py).
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing Debian's wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null
fi
command -v wrk
