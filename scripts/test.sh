#!/usr/bin/env bash
# The whole test suite against real PostgreSQL and Redis (the full-stack configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh >/dev/null
scripts/ensure_chromium.sh >/dev/null
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wedsync}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export SECRET_KEY="${SECRET_KEY:-test-only-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')}"
export DEBUG=false HTTPS=false
.venv/bin/python manage.py collectstatic --noinput -v0
exec .venv/bin/python -m pytest "$@"
