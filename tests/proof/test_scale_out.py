"""Scale-out: two Daphne processes and two Celery workers on one Redis and one PostgreSQL.

What must hold when there is more than one of everything: a supplier's quota is global,
a publish on one process reaches subscribers on the other, an alert fires once and
notifies once, and periodic work runs once per interval even with two beats.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time

import pytest
import websockets

from tests.conftest import _spawn
from tests.proof.gateway_client import GatewayClient, open_code
from tests.proof.helpers import http_request
from tests.proof.webhooks import HoldingReceiver, rule_paging

COLLECT_INTERVAL = 2.0


@pytest.fixture(scope="module")
def topology(start_daphne, start_celery_worker):
    env = {"THROTTLE_USER": "1000000/min", "WEDSYNC_COLLECT_INTERVAL": str(COLLECT_INTERVAL)}
    a, b = start_daphne(env), start_daphne(env)
    w1 = start_celery_worker(env, name=f"scale-1-{os.getpid()}@%h")
    w2 = start_celery_worker(env, name=f"scale-2-{os.getpid()}@%h")
    return {"a": a, "b": b, "workers": [w1, w2]}


@pytest.mark.django_db(transaction=True)
def test_a_suppliers_quota_is_global_across_processes(topology, world):
    world.supplier_a.max_connections = 3
    world.supplier_a.save(update_fields=["max_connections"])
    a, b = topology["a"], topology["b"]
    path = f"/ws/realtime/?token={world.token_a}"

    async def scenario():
        held = [
            await websockets.connect(a.ws_url + path, ping_interval=None),
            await websockets.connect(a.ws_url + path, ping_interval=None),
            await websockets.connect(b.ws_url + path, ping_interval=None),
        ]
        for ws in held:
            await ws.send('{"op": "ping"}')
            await asyncio.wait_for(ws.recv(), 10)
        over = [await open_code(a.ws_url + path), await open_code(b.ws_url + path)]
        other_supplier = await open_code(f"{b.ws_url}/ws/realtime/?token={world.token_b}")
        await held[0].close()
        await asyncio.sleep(0.5)
        freed = await open_code(b.ws_url + path)
        for ws in held[1:]:
            await ws.close()
        return over, other_supplier, freed

    over, other_supplier, freed = asyncio.run(scenario())
    assert over == [4429, 4429]
    assert other_supplier == "open"  # quotas are per supplier
    assert freed == "open"  # a closed connection frees its place on the other process


@pytest.mark.django_db(transaction=True)
def test_a_publish_on_one_process_reaches_subscribers_on_the_other(topology, world, make_user):
    from rest_framework.authtoken.models import Token

    a, b = topology["a"], topology["b"]
    operator = make_user("scale-publisher", "operator")
    auth = {"Authorization": f"Token {Token.objects.create(user=operator).key}"}
    topic = f"wedding:{world.wedding_a.id}"

    async def scenario():
        clients = [
            GatewayClient(f"{server.ws_url}/ws/realtime/?token={world.token_a}", [topic])
            for server in (a, b, b)
        ]
        tasks = [asyncio.create_task(c.run()) for c in clients]
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 30)
        answers = []
        for n in range(10):
            server = a if n % 2 == 0 else b
            answers.append(
                await asyncio.to_thread(
                    http_request,
                    server.url,
                    "POST",
                    "/api/v1/realtime/publish/",
                    body={"topic": topic, "data": {"n": n}},
                    headers=auth,
                )
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(len(c.data(topic)) >= 10 for c in clients):
                break
            await asyncio.sleep(0.1)
        for c in clients:
            c.stop = True
        await asyncio.gather(*tasks)
        return answers, clients

    answers, clients = asyncio.run(scenario())
    assert [status for status, _, _ in answers] == [202] * 10
    for client in clients:
        assert [d["n"] for d in client.data(topic)] == list(range(10))  # all, in order


@pytest.mark.django_db(transaction=True)
def test_an_alert_fires_once_and_notifies_once_with_two_of_everything(topology, make_user):
    from rest_framework.authtoken.models import Token

    from apps.alerts.models import Alert

    receiver = HoldingReceiver(hold_first=False)
    try:
        rule = rule_paging(receiver.url, name="proof: scale-out", metric="proof_scale_latency_ms")
        admin = make_user("scale-ingest", "admin")
        auth = {"Authorization": f"Token {Token.objects.create(user=admin).key}"}
        errors = []

        def pump(server, offset: float) -> None:
            for i in range(10):
                body = {
                    "samples": [
                        {"name": rule.metric, "labels": {}, "value": 900.0 + i, "ts": time.time()}
                    ]
                }
                status, _, text = http_request(
                    server.url, "POST", "/api/v1/metrics/", body=body, headers=auth
                )
                if status != 202:
                    errors.append((status, text[:200]))
                time.sleep(0.05 + offset)

        threads = [
            threading.Thread(target=pump, args=(topology["a"], 0.0)),
            threading.Thread(target=pump, args=(topology["b"], 0.01)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        deadline = time.monotonic() + 30
        while not receiver.completed and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)  # time for any duplicate to show up
    finally:
        receiver.close()
    assert not errors, errors
    alerts = Alert.objects.filter(rule=rule)
    assert alerts.count() == 1 and alerts.get().state == "firing"
    firing = [r for r in receiver.completed if r["json"].get("event") == "firing"]
    assert len(firing) == 1, [r["json"].get("event") for r in receiver.completed]


def _beat(env: dict, name: str):
    args = [sys.executable, "-m", "celery", "-A", "wedsync_ops", "beat", "-l", "info"]
    args += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="]
    return _spawn(args, env, name)


def _wait_for(predicate, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_beat_leads_a_standby_takes_over_and_periodic_work_runs_once(topology, service_env):
    from apps.monitoring.models import Sample

    ttl = 3.0
    env = {
        **service_env,
        "WEDSYNC_COLLECT_INTERVAL": str(COLLECT_INTERVAL),
        "BEAT_LEADER_TTL": str(ttl),
    }
    beats = [_beat(env, "beat-1"), _beat(env, "beat-2")]
    try:
        assert _wait_for(
            lambda: (
                sum("beat leader:" in log.read_text() for _, log in beats) == 1
                and sum("beat standby:" in log.read_text() for _, log in beats) == 1
            ),
            60,
        ), [log.read_text()[-2000:] for _, log in beats]
        (leader, leader_log), (standby, standby_log) = sorted(
            beats, key=lambda b: "beat leader:" not in b[1].read_text()
        )
        started = time.time()
        time.sleep(10)
        ended = time.time()
        assert "Sending due task" in leader_log.read_text()
        assert "Sending due task" not in standby_log.read_text()  # one beat sends
        os.killpg(leader.pid, signal.SIGKILL)
        took = _wait_for(lambda: "beat leader:" in standby_log.read_text(), ttl + 10)
        assert took is not None and took <= ttl + 2, standby_log.read_text()[-2000:]
        assert _wait_for(lambda: "Sending due task" in standby_log.read_text(), 10) is not None
    finally:
        for proc, _ in beats:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
    ts = sorted(
        Sample.objects.filter(
            series__name="wedsync_db_up", ts__gte=started, ts__lt=ended
        ).values_list("ts", flat=True)
    )
    expected = (ended - started) / COLLECT_INTERVAL
    assert 1 <= len(ts) <= expected + 1, (len(ts), expected, ts)
    gaps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    assert all(g >= COLLECT_INTERVAL * 0.5 for g in gaps), gaps
