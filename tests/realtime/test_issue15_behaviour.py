"""Issue 15, the gateway's part: an emergency's degraded profile reaches connected clients
within seconds, a client's protocol mistake is not an error rate, and /metrics counts
deliveries and shows the breaker from the start. Real Daphne, real WebSocket clients."""

from __future__ import annotations

import asyncio
import time
import urllib.request

from apps.realtime.publish import publish
from tests.realtime.conftest import Client, http, make_world, run

BURST = 4


async def burst_frames(client: Client, topic: str) -> list[str]:
    """Publish BURST messages 150 ms apart; the ops of the frames they arrive in.

    A banquet hall batches for 50 ms: one frame per message. The degraded profile batches
    for 500 ms: batch frames."""

    async def publisher() -> None:
        for i in range(BURST):
            await asyncio.to_thread(publish, topic, {"i": i})
            await asyncio.sleep(0.15)

    task = asyncio.create_task(publisher())
    ops: list[str] = []
    got = 0
    while got < BURST:
        frame = await client.recv(5)
        assert frame["op"] in ("message", "batch"), frame
        ops.append(frame["op"])
        got += len(frame["messages"]) if frame["op"] == "batch" else 1
    await task
    return ops


async def until_batching(client: Client, topic: str, wanted: bool, seconds: float) -> float:
    """Seconds until bursts arrive batched (wanted=True) or unbatched; fails after `seconds`."""
    started = time.monotonic()
    while True:
        ops = await burst_frames(client, topic)
        if ("batch" in ops) == wanted:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"still {ops} after {seconds}s"


def test_an_emergency_reshapes_delivery_within_seconds_and_resolving_restores_it(
    start_daphne, transactional_db, staff_token
):
    # The gateway's own profile refresh is pushed far out: only the emergency's signal
    # can reach it within the test's seconds.
    server = start_daphne({"GATEWAY_PROFILE_TTL": "600"})
    ctx = make_world("Network failure")
    wedding = ctx.weddings[0]
    topic = f"wedding:{wedding.pk}"

    async def go() -> None:
        client = await Client.connect(server.ws_url, ctx.token)
        await client.subscribe([topic])
        assert "batch" not in await burst_frames(client, topic)  # the hall's 50 ms window

        status, incident = await asyncio.to_thread(
            http,
            f"{server.url}/api/v1/incidents/",
            staff_token,
            {"emergency_type": "venue_network_failure", "wedding": wedding.pk, "reason": "wifi"},
        )
        assert status == 201, incident
        assert await until_batching(client, topic, True, seconds=5) < 5

        status, body = await asyncio.to_thread(
            http, f"{server.url}/api/v1/incidents/{incident['id']}/resolve/", staff_token, {}
        )
        assert status == 200, body
        assert await until_batching(client, topic, False, seconds=5) < 5
        await client.close()

    run(go())


def _stored(name: str) -> list[float]:
    from apps.monitoring.models import Sample

    return list(Sample.objects.filter(series__name=name).values_list("value", flat=True))


def test_one_forbidden_subscribe_at_near_zero_traffic_pages_nobody(daphne, world, celery_worker):
    from apps.alerts.demo import RULES
    from apps.alerts.models import Alert, AlertRule
    from apps.monitoring.collect import collect_all

    spec = next(r for r in RULES if r["name"] == "Gateway error rate")
    rule = AlertRule.objects.create(**spec)

    async def go() -> None:
        client = await Client.connect(daphne.ws_url, world.token)
        await client.send({"op": "subscribe", "topics": [f"wedding:{world.other_wedding.pk}"]})
        assert (await client.expect("error"))["code"] == "forbidden"
        # The monitor's collection job, as its periodic task runs it, over the next seconds
        # (the gateway publishes its figures every second).
        for _ in range(12):
            await asyncio.to_thread(collect_all)
            await asyncio.sleep(0.25)
        await client.close()

    run(go())
    assert _stored("wedsync_gateway_error_rate"), "the error rate was not collected"
    assert max(_stored("wedsync_gateway_error_rate")) == 0.0
    # The mistake is counted where it belongs: the client errors, not the error rate.
    assert max(_stored("wedsync_gateway_client_errors_per_s")) > 0
    time.sleep(1)  # evaluation runs after the samples' commit
    assert not Alert.objects.filter(rule=rule, state__in=["pending", "firing"]).exists()


def test_error_rate_needs_a_minimum_volume_and_counts_server_failures_only():
    from apps.realtime.collectors import error_rate

    assert error_rate(1.0, 0.0, 5.0) == 0.0  # one failure and nothing else: too few to say
    assert error_rate(0.0, 0.0, 5.0) == 0.0
    assert error_rate(2.0, 98.0, 5.0) == 0.02
    assert error_rate(10.0, 10.0, 5.0) == 0.5


def _metrics(server) -> str:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        return response.read().decode()


def _value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_deliveries_and_show_the_breaker_from_the_start(
    start_daphne, tmp_path, world
):
    # As the Procfile runs it: multiprocess metrics.
    server = start_daphne({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
    first = _metrics(server)
    assert 'wedsync_gateway_breaker_open{breaker="redis"} 0.0' in first
    topic = f"wedding:{world.weddings[0].pk}"

    async def go() -> None:
        client = await Client.connect(server.ws_url, world.token)
        await client.subscribe([topic])
        for i in range(5):
            await asyncio.to_thread(publish, topic, {"i": i})
        assert len(await client.messages(5)) == 5
        await client.close()

    run(go())
    deadline = time.monotonic() + 5
    while (_value(_metrics(server), "wedsync_gateway_deliveries_total") or 0) < 5:
        assert time.monotonic() < deadline, _metrics(server)[-3000:]
        time.sleep(0.2)
    assert _value(_metrics(server), "wedsync_gateway_deliveries_total") == 5
