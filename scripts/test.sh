#!/usr/bin/env bash
# The whole test suite against real PostgreSQL and Redis (the full-stack configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh >/dev/null
scripts/ensure_chromium.sh >/dev/null
scripts/ensure_node.sh >/dev/null
scripts/ensure_haproxy.sh >/dev/null
scripts/ensure_prometheus.sh >/dev/null
scripts/ensure_wrk.sh >/dev/null
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wedsync}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export SECRET_KEY="${SECRET_KEY:-test-only-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')}"
export DEBUG=false HTTPS=false
# The full stack with DEBUG off refuses to start without it (notification links).
export ALERTS_PUBLIC_URL="${ALERTS_PUBLIC_URL:-http://127.0.0.1:8000}"
.venv/bin/python manage.py collectstatic --noinput -v0
exec .venv/bin/python -m pytest "$@"
