"""PostgreSQL crashes and restarts under a stream of ingest requests: callers get
503 + Retry-After (never a 500), and every batch answered 202 is in the database."""

from __future__ import annotations

import http.client
import threading
import time

import orjson
import psycopg
import pytest


@pytest.mark.django_db(transaction=True)
def test_ingest_survives_a_postgres_crash(private_postgres, start_daphne, make_user):
    from rest_framework.authtoken.models import Token

    # An admin token in the test database, then the whole database copied into the cluster.
    token = Token.objects.create(user=make_user("pusher", "admin")).key
    private_postgres.clone_test_database()
    # The pool absorbs an outage shorter than DATABASE_POOL_TIMEOUT as latency; this
    # outage (2 s) must outlast it so callers are told to retry.
    server = start_daphne({"DATABASE_URL": private_postgres.url, "DATABASE_POOL_TIMEOUT": "1"})
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
