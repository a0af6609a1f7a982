"""Several Daphne processes sharing Redis; processes and Redis dying under live clients."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import pytest

from tests.realtime.conftest import Client, http, lease_count, make_world, run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def pair(start_daphne):
    return start_daphne(), start_daphne()


def test_quota_is_global_across_processes(pair, transactional_db, staff_token):
    a, b = pair
    ctx = make_world("Two-seat studio", max_connections=2)

    async def go():
        first = await Client.connect(a.ws_url, ctx.token)
        second = await Client.connect(b.ws_url, ctx.token)
        for c in (first, second):
            await c.send({"op": "ping"})
            await c.expect("pong")
        third = await Client.connect(b.ws_url, ctx.token)
        assert await third.close_code() == 4429
        fourth = await Client.connect(a.ws_url, ctx.token)
        assert await fourth.close_code() == 4429
        await first.close()
        await asyncio.sleep(0.3)
        again = await Client.connect(b.ws_url, ctx.token)
        await again.send({"op": "ping"})
        await again.expect("pong")
        # The report counts both processes and the rejections.
        await asyncio.sleep(1.5)
        status, report = await asyncio.to_thread(
            http, f"{a.url}/api/v1/realtime/health/", staff_token
        )
        assert status == 200, report
        assert report["processes"] >= 2
        assert report["connections_per_supplier"][str(ctx.supplier.pk)] == 2
        assert report["quota_rejections"] >= 2

    run(go())


def test_publish_through_one_process_reaches_subscribers_on_the_other(pair, world, staff_token):
    a, b = pair
    topic = f"wedding:{world.weddings[0].pk}"

    async def go():
        on_a = await Client.connect(a.ws_url, world.token)
        on_b = await Client.connect(b.ws_url, world.token)
        await on_a.subscribe([topic])
        await on_b.subscribe([topic])
        status, body = await asyncio.to_thread(
            http,
            f"{a.url}/api/v1/realtime/publish/",
            staff_token,
            {"topic": topic, "data": {"x": 1}},
        )
        assert status == 202, body
        for client in (on_a, on_b):
            (message,) = await client.messages(1)
            assert (message["seq"], message["data"]) == (body["seq"], {"x": 1})

    run(go())


def test_killed_process_leaks_no_quota(start_daphne, transactional_db):
    doomed = start_daphne({"GATEWAY_LEASE_TTL": "2"})
    survivor = start_daphne({"GATEWAY_LEASE_TTL": "2"})
    ctx = make_world("One-seat", max_connections=1)

    async def go():
        held = await Client.connect(doomed.ws_url, ctx.token)
        await held.send({"op": "ping"})
        await held.expect("pong")
        refused = await Client.connect(survivor.ws_url, ctx.token)
        assert await refused.close_code() == 4429
        doomed.kill()
        started = time.monotonic()
        while True:
            client = await Client.connect(survivor.ws_url, ctx.token)
            try:
                await client.send({"op": "ping"})
                await client.expect("pong", timeout=1)
                break
            except Exception:
                assert time.monotonic() - started < 6, "lease of the dead process never expired"
                await asyncio.sleep(0.3)
        # Freed by expiry (TTL 2 s), not by anyone releasing it.
        assert time.monotonic() - started > 0.5

    run(go())


def test_dead_connection_is_closed_4408_and_its_lease_released(start_daphne, transactional_db):
    server = start_daphne({"GATEWAY_DEAD_GRACE": "1", "GATEWAY_DEAD_FACTOR": "2"})
    ctx = make_world("Flaky signal", venue_kwargs={"heartbeat_seconds": 1})
    topic = f"wedding:{ctx.weddings[0].pk}"

    async def go():
        alive = await Client.connect(server.ws_url, ctx.token, auto_pong=True)
        silent = await Client.connect(server.ws_url, ctx.token, auto_pong=False)
        try:
            await alive.subscribe([topic])
            await silent.subscribe([topic])
            assert lease_count(ctx.supplier.pk) == 2
            # The alive client keeps reading (and answering pings) meanwhile.
            answering = asyncio.create_task(alive.recv(timeout=30))
            assert await silent.close_code(timeout=8) == 4408
            await asyncio.sleep(1)
            assert not answering.done(), answering
            answering.cancel()
            await asyncio.gather(answering, return_exceptions=True)
            # The answering client got pings at the venue's 1 s interval and is still here.
            await alive.send({"op": "ping"})
            await alive.expect("pong")  # reads (and answers) the pings queued before it
            assert alive.pings >= 2
            assert lease_count(ctx.supplier.pk) == 1
        finally:
            # Closed explicitly so no client task outlives the scenario's event loop.
            for client in (alive, silent):
                await asyncio.wait_for(client.close(), 5)

    run(go())


def _metric(url: str, name: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return "\n".join(line for line in text.splitlines() if line.startswith(name))


@pytest.mark.fault
def test_redis_killed_and_restarted_nobody_disconnected_nothing_lost(
    start_daphne, start_redis, world, staff_token
):
    redis_server = start_redis()
    redis_url = f"redis://127.0.0.1:{redis_server.port}/0"
    server = start_daphne({"REDIS_URL": redis_url, "GATEWAY_BREAKER_RESET": "0.5"})
    topics = [f"wedding:{w.pk}" for w in world.weddings]
    n_clients = 20
    world.supplier.max_connections = 100
    world.supplier.save()

    async def go():
        clients = [await Client.connect(server.ws_url, world.token) for _ in range(n_clients)]
        for c in clients:
            await c.subscribe(topics)
        published: dict[str, list[int]] = {t: [] for t in topics}
        queued = 0

        async def pub(i: int) -> None:
            nonlocal queued
            topic = topics[i % len(topics)]
            status, body = await asyncio.to_thread(
                http,
                f"{server.url}/api/v1/realtime/publish/",
                staff_token,
                {"topic": topic, "data": {"i": i}},
            )
            assert status == 202, body
            published[topic].append(i)
            queued += body["queued"]

        i = 0
        for _ in range(10):
            await pub(i)
            i += 1
        redis_server.kill()
        outage_started = time.monotonic()
        for _ in range(20):  # publishing continues during the outage
            await pub(i)
            i += 1
            await asyncio.sleep(0.05)
        assert queued > 0, "no publish went to the outbox while Redis was dead"
        # Breaker open: new connections are told to come back later; /metrics says so.
        newcomer = await Client.connect(server.ws_url, world.token)
        assert await newcomer.close_code() == 1013
        assert 'wedsync_gateway_breaker_open{breaker="redis"} 1.0' in await asyncio.to_thread(
            _metric, server.url, "wedsync_gateway_breaker_open"
        )
        restarted = start_redis(port=redis_server.port)
        back_at = time.monotonic()
        assert restarted.port == redis_server.port
        for _ in range(10):
            await pub(i)
            i += 1
        # Every client gets every message of every topic, in order, without disconnecting.
        total = sum(len(v) for v in published.values())
        for c in clients:
            got = await c.messages(total, timeout=10)
            for topic in topics:
                data = [m["data"]["i"] for m in got if m["topic"] == topic]
                assert data == published[topic]
                seqs = [m["seq"] for m in got if m["topic"] == topic]
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        recovery = time.monotonic() - back_at
        assert recovery <= 10, f"recovery took {recovery:.1f} s"
        assert time.monotonic() - outage_started < 30
        for c in clients:
            await c.send({"op": "ping"})
            await c.expect("pong")
        # And new connections are welcome again.
        late = await Client.connect(server.ws_url, world.token)
        await late.send({"op": "ping"})
        await late.expect("pong")

    run(go())


def _wait_for_hub_stats(redis_url: str, timeout: float = 15.0) -> dict:
    """The stats a hub wrote to a freshly restarted Redis, once its pub/sub is back."""
    import orjson
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in client.keys("*:rt:proc:*"):
            raw = client.get(key)
            stats = orjson.loads(raw) if raw else {}
            if stats.get("pubsub_connected") and stats.get("breaker", {}).get("redis") == "closed":
                return stats
        time.sleep(0.1)
    raise AssertionError("the hub did not reconnect to the restarted Redis")


def _gateway_on_private_redis(start_daphne, start_redis, world, staff_token) -> tuple:
    """A Daphne on a Redis of its own (to kill), the supplier's first wedding topic, and a
    publish(i) over the API that must be accepted."""
    redis_server = start_redis()
    redis_url = f"redis://127.0.0.1:{redis_server.port}/0"
    server = start_daphne({"REDIS_URL": redis_url, "GATEWAY_BREAKER_RESET": "0.5"})
    topic = f"wedding:{world.weddings[0].pk}"

    def publish(i: int) -> dict:
        status, body = http(
            f"{server.url}/api/v1/realtime/publish/",
            staff_token,
            {"topic": topic, "data": {"i": i}},
        )
        assert status == 202, body
        return body

    return redis_server, redis_url, server, topic, publish


@pytest.mark.fault
def test_first_message_after_redis_restarts_empty_is_delivered(
    start_daphne, start_redis, world, staff_token
):
    """Redis comes back empty (no counters, no history) and the hub catches up before
    anyone publishes: the connections must keep their place, so the next message (numbered
    on from PostgreSQL's record) is delivered, not refused as a replay gap."""
    redis_server, redis_url, server, topic, publish = _gateway_on_private_redis(
        start_daphne, start_redis, world, staff_token
    )

    async def go():
        clients = [await Client.connect(server.ws_url, world.token) for _ in range(3)]
        for c in clients:
            await c.subscribe([topic])
        seqs = [(await asyncio.to_thread(publish, i))["seq"] for i in range(5)]
        for c in clients:
            assert [m["seq"] for m in await c.messages(5)] == seqs
        redis_server.kill()
        await asyncio.sleep(1.0)
        start_redis(port=redis_server.port)
        await asyncio.to_thread(_wait_for_hub_stats, redis_url)
        await asyncio.sleep(1.5)  # the hub's catch-up (and any retry of it) is done
        body = await asyncio.to_thread(publish, 5)
        assert body["seq"] == seqs[-1] + 1, body  # numbering went on from PostgreSQL's record
        for c in clients:
            [message] = await c.messages(1)
            assert (message["seq"], message["data"]) == (seqs[-1] + 1, {"i": 5})
        # Still connected and answering.
        for c in clients:
            await c.send({"op": "ping"})
            await c.expect("pong")

    run(go())


@pytest.mark.fault
def test_outage_messages_reach_positioned_and_fresh_subscribers(
    start_daphne, start_redis, world, staff_token
):
    """Messages queued in the outbox while Redis is down, relayed once it is back (empty),
    reach both connections that had received messages and one that subscribed live and had
    received nothing yet: its subscription predates them, so they are owed to it too."""
    redis_server, redis_url, server, topic, publish = _gateway_on_private_redis(
        start_daphne, start_redis, world, staff_token
    )

    async def go():
        early = [await Client.connect(server.ws_url, world.token) for _ in range(2)]
        for c in early:
            await c.subscribe([topic])
        for i in range(3):
            await asyncio.to_thread(publish, i)
        for c in early:
            assert [m["data"]["i"] for m in await c.messages(3)] == [0, 1, 2]
        fresh = await Client.connect(server.ws_url, world.token)
        await fresh.subscribe([topic])  # live from now: position unknown until a message
        redis_server.kill()
        queued = [await asyncio.to_thread(publish, i) for i in (3, 4, 5)]
        assert all(b["queued"] for b in queued), queued
        start_redis(port=redis_server.port)
        await asyncio.to_thread(_wait_for_hub_stats, redis_url)
        await asyncio.to_thread(publish, 6)
        for c in [*early, fresh]:
            got = await c.messages(4)
            assert [m["data"]["i"] for m in got] == [3, 4, 5, 6]
            assert [m["seq"] for m in got] == [4, 5, 6, 7]

    run(go())
