"""Fault: PostgreSQL crashes (SIGKILL) and comes back while samples are being ingested.

Expected: during the outage the API answers 503 with Retry-After (never another 5xx);
no batch is ever stored in part; after the restart, ingest works again by itself.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from tests.proof.helpers import http_request

BATCH = 200
pytestmark = [pytest.mark.fault]


def _batch(run: str, index: int) -> dict:
    base = time.time() - 5
    return {
        "samples": [
            {
                "name": "proof_fault_ingest",
                "labels": {"run": run, "batch": str(index)},
                "value": float(j),
                "ts": base + j * 0.001,
            }
            for j in range(BATCH)
        ]
    }


@pytest.mark.django_db(transaction=True)
def test_postgres_crash_under_ingest_gives_503s_no_partial_batch_and_recovers(
    make_user, private_postgres, start_daphne
):
    from rest_framework.authtoken.models import Token

    admin = make_user("fault-pg-admin", "admin")
    token = Token.objects.create(user=admin).key
    private_postgres.clone_test_database()

    server = start_daphne(
        {
            "DATABASE_URL": private_postgres.url,
            "DATABASE_POOL_TIMEOUT": "1",  # shorter than the 3 s outage: callers see 503
            "THROTTLE_USER": "1000000/min",
        }
    )
    headers = {"Authorization": f"Token {token}"}
    run = uuid.uuid4().hex[:8]
    results: list[tuple[int, int, float, dict]] = []  # (batch, status, at, headers)
    stop = threading.Event()

    def pump() -> None:
        index = 0
        while not stop.is_set():
            try:
                status, resp_headers, _ = http_request(
                    server.url, "POST", "/api/v1/metrics/", body=_batch(run, index), headers=headers
                )
            except OSError as exc:  # Daphne itself must never stop answering
                status, resp_headers = -1, {"error": str(exc)}
            results.append((index, status, time.monotonic(), resp_headers))
            index += 1
            time.sleep(0.02)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    time.sleep(2.0)
    crashed_at = time.monotonic()
    private_postgres.kill()
    time.sleep(3.0)
    private_postgres.start()
    restarted_at = time.monotonic()
    # Keep ingesting until the service has been back for a while.
    deadline = restarted_at + 30
    while time.monotonic() < deadline:
        recent = [r for r in results if r[2] > restarted_at]
        if sum(1 for r in recent if r[1] == 202) >= 10:
            break
        time.sleep(0.2)
    stop.set()
    thread.join(30)

    statuses = [r[1] for r in results]
    assert set(statuses) <= {202, 503}, sorted(set(statuses))
    before = [r for r in results if r[2] < crashed_at]
    during = [r for r in results if crashed_at <= r[2] < restarted_at]
    after = [r for r in results if r[2] >= restarted_at]
    assert before and all(r[1] == 202 for r in before)
    outage = [r for r in during if r[1] == 503]
    assert outage, "no request saw the outage"
    assert all(r[3].get("retry-after", "").isdigit() for r in results if r[1] == 503)
    # Normal service after: the last ten answers are all accepted, with no restart of Daphne.
    assert [r[1] for r in after[-10:]] == [202] * 10
    assert server.proc.poll() is None

    with psycopg.connect(private_postgres.url) as conn:
        rows = conn.execute(
            "SELECT r.labels->>'batch', count(*) FROM monitoring_sample s"
            " JOIN monitoring_series r ON r.id = s.series_id"
            " WHERE r.name = 'proof_fault_ingest' AND r.labels->>'run' = %s GROUP BY 1",
            (run,),
        ).fetchall()
    stored = {int(batch): count for batch, count in rows}
    partial = {b: c for b, c in stored.items() if c != BATCH}
    assert not partial, f"partially stored batches: {partial}"
    accepted = {r[0] for r in results if r[1] == 202}
    lost = accepted - set(stored)
    assert not lost, f"batches answered 202 but not stored: {sorted(lost)}"
    print(
        f"batches: {len(results)}, 503 during outage: {len(outage)}, "
        f"first 202 after restart: {min(r[2] for r in after if r[1] == 202) - restarted_at:.2f}s"
    )
