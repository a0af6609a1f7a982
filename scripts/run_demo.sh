#!/usr/bin/env bash
# The whole product on the embedded default: SQLite, in-process jobs, no services.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL REDIS_URL
PORT="${PORT:-8000}"
# Links in alert notifications point at this server, whatever port it was given.
export ALERTS_PUBLIC_URL="${ALERTS_PUBLIC_URL:-http://127.0.0.1:$PORT}"
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
print("  demo traffic: a dozen supplier apps on the gateway (var/demo-traffic.log;")
print("  DEMO_TRAFFIC=0 turns it off); HTTP access log: var/access.log")
print()
PYEOF
# The access log goes to a file: the demo traffic would otherwise fill the terminal.
.venv/bin/daphne -b 127.0.0.1 -p "$PORT" --access-log var/access.log wedsync_ops.asgi:application &
DAPHNE=$!
SIM=""
trap 'kill $DAPHNE $SIM 2>/dev/null || true' EXIT INT TERM
if [ "${DEMO_TRAFFIC:-1}" != "0" ]; then
    # Live traffic for the demo: supplier apps subscribing, receiving and reading weddings
    # with the tokens in the credentials file (publishes go through the API: the server's
    # channel layer is in its own memory). Started once Daphne answers.
    for _ in $(seq 60); do
        $PY -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
            "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
        sleep 0.5
    done
    $PY manage.py simulate --url "ws://127.0.0.1:$PORT" --credentials var/demo-credentials.json \
        --clients 12 --suppliers 6 --rate 2 --reads 4 --ramp 20 --duration 31536000 \
        > var/demo-traffic.log 2>&1 &
    SIM=$!
fi
wait $DAPHNE
