#!/usr/bin/env bash
# The whole product on the embedded default: SQLite, in-process jobs, no services.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL REDIS_URL
PORT="${PORT:-8000}"
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo --credentials var/demo-credentials.json
$PY - <<'PYEOF'
import json, os
c = json.load(open("var/demo-credentials.json"))
port = os.environ.get("PORT", "8000")
print()
print(f"  WedSync Ops is starting at  http://127.0.0.1:{port}/")
print(f"  admin:    {c['admin']['username']} / {c['admin']['password']}")
print(f"  operator: {c['operator']['username']} / {c['operator']['password']}")
print(f"  API token (admin): {c['api_token']}")
print("  (all in var/demo-credentials.json)")
print()
PYEOF
exec .venv/bin/daphne -b 127.0.0.1 -p "$PORT" wedsync_ops.asgi:application
