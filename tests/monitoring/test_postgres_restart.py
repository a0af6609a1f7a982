"""PostgreSQL crashes and restarts under a stream of ingest requests: callers get
503 + Retry-After (never a 500), and every batch answered 202 is in the database."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time

import orjson
import psycopg
import pytest

from tests.conftest import ROOT


def _prepare(cluster, env: dict) -> str:
    env = {**env, "DATABASE_URL": cluster.url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180
    )
    code = (
        "from django.contrib.auth.models import User, Group;"
        "from rest_framework.authtoken.models import Token;"
        "u = User.objects.create_user('pusher');"
        "u.groups.add(Group.objects.get_or_create(name='admins')[0]);"
        "print(Token.objects.create(user=u).key)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_ingest_survives_a_postgres_crash(private_postgres, start_daphne, service_env):
    token = _prepare(private_postgres, service_env)
    server = start_daphne({"DATABASE_URL": private_postgres.url, "CONN_MAX_AGE": "60"})
    outcomes: list[tuple[int, int, str | None]] = []  # (batch, status, Retry-After)
    stop = threading.Event()

    def push() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        batch = 0
        while not stop.is_set():
            samples = [
                {
                    "name": "pushed",
                    "labels": {"batch": str(batch)},
                    "value": i,
                    "ts": time.time() - i,
                }
                for i in range(50)
            ]
            try:
                conn.request(
                    "POST",
                    "/api/v1/metrics/",
                    orjson.dumps({"samples": samples}),
                    {"Authorization": f"Token {token}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                outcomes.append((batch, response.status, response.getheader("Retry-After")))
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                outcomes.append((batch, -1, None))
            batch += 1
            time.sleep(0.05)

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        time.sleep(1.5)
        private_postgres.kill()
        time.sleep(2.0)
        private_postgres.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if outcomes and outcomes[-1][1] == 202 and any(s == 503 for _, s, _ in outcomes):
                break
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        stop.set()
        pusher.join(30)

    statuses = [status for _, status, _ in outcomes]
    assert set(statuses) <= {202, 503}, statuses
    assert 503 in statuses, "the crash was never noticed"
    assert all(retry == "2" for _, status, retry in outcomes if status == 503)
    first_503 = statuses.index(503)
    assert 202 in statuses[:first_503] and statuses[-1] == 202
    accepted = {batch for batch, status, _ in outcomes if status == 202}
    with psycopg.connect(private_postgres.url) as conn:
        rows = conn.execute(
            "SELECT s.labels->>'batch', count(*) FROM monitoring_sample m "
            "JOIN monitoring_series s ON s.id = m.series_id GROUP BY 1"
        ).fetchall()
    stored = {int(batch): n for batch, n in rows}
    missing = [b for b in accepted if stored.get(b) != 50]
    assert missing == [], f"batches answered 202 but not (fully) stored: {missing}"
