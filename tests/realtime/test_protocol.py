"""The protocol against a real Daphne: auth, authorisation, frames, bad input, replay."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from apps.realtime.publish import publish
from tests.realtime.conftest import Client, http, lease_count, make_world, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_bad_or_missing_token_is_closed_4401(daphne, world):
    async def go():
        for token in ("nope", "wss_forged-token", ""):
            client = await Client.connect(daphne.ws_url, token)
            assert await client.close_code() == 4401

    run(go())


def test_subscribe_own_wedding_and_receive_published_messages(daphne, world, staff_token):
    wedding = world.weddings[0]

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        ack = await client.subscribe([f"wedding:{wedding.pk}", f"supplier:{world.supplier.pk}"])
        assert ack["topics"] == [f"wedding:{wedding.pk}", f"supplier:{world.supplier.pk}"]
        status, body = await asyncio.to_thread(
            http,
            f"{daphne.url}/api/v1/realtime/publish/",
            staff_token,
            {"topic": f"wedding:{wedding.pk}", "data": {"kind": "timeline", "at": "15:30"}},
        )
        assert status == 202, body
        assert body["seq"] == 1 and body["queued"] is False
        (message,) = await client.messages(1)
        assert message["topic"] == f"wedding:{wedding.pk}"
        assert message["seq"] == 1
        assert message["data"] == {"kind": "timeline", "at": "15:30"}
        seq = await asyncio.to_thread(publish, f"supplier:{world.supplier.pk}", {"n": 2})
        (message,) = await client.messages(1)
        assert (message["topic"], message["seq"], message["data"]) == (
            f"supplier:{world.supplier.pk}",
            seq,
            {"n": 2},
        )
        await client.send({"op": "unsubscribe", "topics": [f"wedding:{wedding.pk}"]})
        assert (await client.expect("unsubscribed"))["topics"] == [f"wedding:{wedding.pk}"]
        await asyncio.to_thread(publish, f"wedding:{wedding.pk}", {"after": "unsubscribe"})
        await client.send({"op": "ping"})
        assert (await client.recv())["op"] == "pong"  # nothing arrived in between
        await client.close()

    run(go())


def test_other_suppliers_topics_are_refused_with_an_error_frame(daphne, world):
    stranger = make_world("Someone Else")

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        await client.send(
            {
                "op": "subscribe",
                "topics": [
                    f"wedding:{world.other_wedding.pk}",
                    f"wedding:{stranger.weddings[0].pk}",
                    f"supplier:{stranger.supplier.pk}",
                    f"wedding:{world.weddings[0].pk}",
                ],
            }
        )
        error = await client.expect("error")
        assert error["code"] == "forbidden"
        assert set(error["topics"]) == {
            f"wedding:{world.other_wedding.pk}",
            f"wedding:{stranger.weddings[0].pk}",
            f"supplier:{stranger.supplier.pk}",
        }
        # The allowed one still went through.
        assert (await client.expect("subscribed"))["topics"] == [f"wedding:{world.weddings[0].pk}"]
        await asyncio.to_thread(publish, f"wedding:{stranger.weddings[0].pk}", {"secret": 1})
        await asyncio.to_thread(publish, f"wedding:{world.weddings[0].pk}", {"mine": 1})
        (message,) = await client.messages(1)
        assert message["data"] == {"mine": 1}

    run(go())


def test_supplier_may_publish_to_its_own_topics_only(daphne, world):
    url = f"{daphne.url}/api/v1/realtime/publish/"
    status, body = http(url, world.token, {"topic": f"wedding:{world.weddings[0].pk}", "data": {}})
    assert status == 202, body
    status, body = http(
        url, world.token, {"topic": f"wedding:{world.other_wedding.pk}", "data": {}}
    )
    assert status == 403
    assert f"wedding:{world.other_wedding.pk}" in body["detail"]


def test_publish_api_names_bad_fields(daphne, staff_token):
    url = f"{daphne.url}/api/v1/realtime/publish/"
    status, body = http(url, staff_token, {"topic": "party:1", "data": {"x": 1}})
    assert status == 400 and "topic" in str(body), body
    status, body = http(url, staff_token, {"topic": "wedding:1", "data": [1, 2]})
    assert status == 400 and "data" in str(body), body


def test_bad_frames_get_error_frames_and_the_connection_survives(daphne, world):
    topic = f"wedding:{world.weddings[0].pk}"

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        cases = [
            ("{not json", "bad_json"),
            ("[1, 2]", "not_object"),
            ('"hello"', "not_object"),
            ({"op": "dance"}, "unknown_op"),
            ({"nop": 1}, "unknown_op"),
            ({"op": "subscribe"}, "bad_topics"),
            ({"op": "subscribe", "topics": "wedding:1"}, "bad_topics"),
            ({"op": "subscribe", "topics": ["wedding:abc"]}, "bad_topics"),
            ({"op": "subscribe", "topics": [42]}, "bad_topics"),
            ({"op": "subscribe", "topics": ["x" * 5000]}, "bad_topics"),
            (
                {"op": "subscribe", "topics": [f"wedding:{i}" for i in range(1, 102)]},
                "too_many_topics",
            ),
            ({"op": "subscribe", "topics": [topic], "since": {topic: -1}}, "bad_since"),
            ({"op": "subscribe", "topics": [topic], "since": {"wedding:999": 1}}, "bad_since"),
            ({"op": "unsubscribe", "topics": [None]}, "bad_topics"),
            ("x" * (70 * 1024), "frame_too_large"),
            (b"\xff\xfe binary garbage", "bad_json"),
        ]
        for frame, code in cases:
            await client.send(frame)
            error = await client.expect("error")
            assert error["code"] == code, (frame if len(str(frame)) < 200 else code, error)
            assert error["message"]
        # Still alive and working.
        await client.subscribe([topic])
        await asyncio.to_thread(publish, topic, {"still": "alive"})
        (message,) = await client.messages(1)
        assert message["data"] == {"still": "alive"}

    run(go())


def test_frame_over_one_mib_drops_the_connection_and_releases_the_lease(daphne, world):
    """Daphne (autobahn, failByDrop) drops the TCP connection on a message over its 1 MiB
    limit: the client sees 1006 (no close frame). The gateway must still release the lease."""

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        await client.send({"op": "ping"})
        await client.expect("pong")
        assert lease_count(world.supplier.pk) == 1
        await client.send("y" * (1024 * 1024 + 10))
        assert await client.close_code() is None  # abnormal closure: 1006 on the client
        for _ in range(50):
            if lease_count(world.supplier.pk) == 0:
                break
            await asyncio.sleep(0.1)
        assert lease_count(world.supplier.pk) == 0

    run(go())


def test_a_burst_of_closes_releases_every_lease_and_new_clients_are_admitted(
    daphne, transactional_db
):
    """300 sockets dropped at once (a venue's network going down): every quota lease is
    released, and a client connecting straight after is let in, not refused with 1013."""
    ctx = make_world("Burst", max_connections=400)

    async def go():
        clients = await asyncio.gather(
            *(Client.connect(daphne.ws_url, ctx.token) for _ in range(300))
        )
        assert lease_count(ctx.supplier.pk) == 300
        for c in clients:
            c.ws.transport.abort()  # a dropped network: no close handshake
        for _ in range(100):
            if lease_count(ctx.supplier.pk) == 0:
                break
            await asyncio.sleep(0.1)
        assert lease_count(ctx.supplier.pk) == 0
        late = await Client.connect(daphne.ws_url, ctx.token)
        await late.send({"op": "ping"})
        await late.expect("pong")
        await late.close()

    run(go())


def test_flood_is_rate_limited_then_closed_1008(daphne, transactional_db):
    ctx = make_world("Flooder", max_messages_per_second=5)

    async def go():
        client = await Client.connect(daphne.ws_url, ctx.token)
        for _ in range(10):  # the burst allowance: two seconds' worth
            await client.send({"op": "ping"})
        for _ in range(10):
            assert (await client.recv())["op"] == "pong"
        await client.send({"op": "ping"})
        error = await client.expect("error")
        assert error["code"] == "rate_limited"
        for _ in range(200):
            try:
                await client.send({"op": "ping"})
            except websockets.ConnectionClosed:
                break
        assert await client.close_code() == 1008

    run(go())


def test_too_many_topics_across_frames(daphne, transactional_db):
    ctx = make_world("Narrow", weddings=3, max_channels_per_connection=2)

    async def go():
        client = await Client.connect(daphne.ws_url, ctx.token)
        await client.subscribe([f"wedding:{ctx.weddings[0].pk}", f"wedding:{ctx.weddings[1].pk}"])
        await client.send({"op": "subscribe", "topics": [f"wedding:{ctx.weddings[2].pk}"]})
        error = await client.expect("error")
        assert error["code"] == "too_many_topics"

    run(go())


def test_replay_since_then_live_without_gap_or_duplicate(daphne, world):
    topic = f"wedding:{world.weddings[0].pk}"
    for i in range(1, 6):
        publish(topic, {"i": i})

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        await client.subscribe([topic], since={topic: 2})
        replayed = await client.messages(3)
        assert [m["seq"] for m in replayed] == [3, 4, 5]
        assert [m["data"]["i"] for m in replayed] == [3, 4, 5]
        await asyncio.to_thread(publish, topic, {"i": 6})
        (live,) = await client.messages(1)
        assert live["seq"] == 6
        # Subscribing again with an up-to-date since replays nothing.
        await client.subscribe([topic], since={topic: 6})
        await asyncio.to_thread(publish, topic, {"i": 7})
        assert [m["seq"] for m in await client.messages(1)] == [7]

    run(go())


def test_replay_seam_under_concurrent_publishing(daphne, world):
    """Publishing keeps running while a client subscribes with `since`: it must see every
    seq exactly once, in order."""
    topic = f"wedding:{world.weddings[0].pk}"
    for i in range(1, 21):
        publish(topic, {"i": i})

    async def go():
        stop = asyncio.Event()

        async def publisher():
            i = 21
            while not stop.is_set() and i <= 120:
                await asyncio.to_thread(publish, topic, {"i": i})
                i += 1
            return i - 1

        task = asyncio.create_task(publisher())
        await asyncio.sleep(0.05)
        client = await Client.connect(daphne.ws_url, world.token)
        await client.subscribe([topic], since={topic: 10})
        await asyncio.sleep(0.3)
        stop.set()
        last = await task
        seqs = [m["seq"] for m in await client.messages(last - 10, timeout=15)]
        assert seqs == list(range(11, last + 1))

    run(go())


def test_gap_larger_than_history_says_refetch(daphne, transactional_db):
    ctx = make_world("Tiny history", venue_kwargs={"replay_buffer": 3})
    topic = f"wedding:{ctx.weddings[0].pk}"
    for i in range(1, 11):
        publish(topic, {"i": i})

    async def go():
        client = await Client.connect(daphne.ws_url, ctx.token)
        await client.subscribe([topic], since={topic: 1})
        error = await client.expect("error")
        assert error["code"] == "replay_gap"
        assert error["topic"] == topic and error["oldest"] == 8 and error["current"] == 10
        assert "refetch" in error["message"]
        # Then live from the current position.
        await asyncio.to_thread(publish, topic, {"i": 11})
        assert [m["seq"] for m in await client.messages(1)] == [11]

    run(go())


def test_assignment_removed_drops_the_subscription(daphne, world):
    wedding = world.weddings[0]
    topic = f"wedding:{wedding.pk}"

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        await client.subscribe([topic])
        await asyncio.to_thread(wedding.suppliers.remove, world.supplier)
        error = await client.expect("error")
        assert error["code"] == "revoked" and error["topics"] == [topic]
        await asyncio.to_thread(publish, topic, {"after": "revoked"})
        await client.send({"op": "ping"})
        assert (await client.recv())["op"] == "pong"
        await client.send({"op": "subscribe", "topics": [topic]})
        assert (await client.expect("error"))["code"] == "forbidden"
        # Assigned again: allowed at once.
        await asyncio.to_thread(wedding.suppliers.add, world.supplier)
        await client.subscribe([topic])

    run(go())


def test_fair_venue_coalesces_messages_into_batch_frames(daphne, transactional_db):
    ctx = make_world("Chapel", venue_kwargs={"connectivity": "fair", "batch_window_ms": 300})
    topic = f"wedding:{ctx.weddings[0].pk}"

    async def go():
        client = await Client.connect(daphne.ws_url, ctx.token)
        await client.subscribe([topic])
        await asyncio.to_thread(lambda: [publish(topic, {"i": i}) for i in range(5)])
        frame = await client.recv()
        assert frame["op"] == "batch", frame
        assert [m["data"]["i"] for m in frame["messages"]] == [0, 1, 2, 3, 4]
        assert [m["seq"] for m in frame["messages"]] == [1, 2, 3, 4, 5]

    run(go())


async def _code_within(url: str, token: str, wanted: int, seconds: float) -> list:
    """Connect until the handshake ends in `wanted` (or `seconds` pass); the codes seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    seen: list = []
    while True:
        client = await Client.connect(url, token)
        try:
            await client.send({"op": "ping"})
            frame = await client.recv(2)
            seen.append(frame.get("op"))
            await client.close()
        except websockets.ConnectionClosed as exc:
            seen.append(exc.rcvd.code if exc.rcvd else None)
        if seen[-1] == wanted or loop.time() > deadline:
            return seen
        await asyncio.sleep(0.05)


def test_handshake_reuses_a_token_but_revocation_applies_at_once(daphne, world):
    """Handshakes answer a repeat token from memory (GATEWAY_AUTH_TTL, 10 s), yet a rotated
    token, a deactivated supplier or a lowered quota take effect on the next handshake
    (within 2 s, far under the 10 s the memory would otherwise last)."""
    supplier = world.supplier

    async def go():
        # The token works (and is now remembered by the process).
        first = await Client.connect(daphne.ws_url, world.token)
        await first.send({"op": "ping"})
        await first.expect("pong")
        # Rotated: the old token is refused, the new one accepted.
        new_token = await asyncio.to_thread(supplier.issue_token)
        assert (await _code_within(daphne.ws_url, world.token, 4401, 2))[-1] == 4401
        assert (await _code_within(daphne.ws_url, new_token, "pong", 2))[-1] == "pong"
        # Quota lowered to the one connection still open: the next one is over quota.
        supplier.max_connections = 1
        await asyncio.to_thread(supplier.save)
        assert (await _code_within(daphne.ws_url, new_token, 4429, 2))[-1] == 4429
        # Deactivated: refused (and the open connection is closed, as before).
        supplier.is_active = False
        await asyncio.to_thread(supplier.save)
        assert await first.close_code() == 4401
        assert (await _code_within(daphne.ws_url, new_token, 4401, 2))[-1] == 4401

    run(go())


@pytest.mark.parametrize("batch_window_ms", [0, 50])
def test_large_messages_to_a_slow_reader_arrive_whole_and_in_order(
    daphne, transactional_db, batch_window_ms
):
    """30 messages of 200 KB published back to back reach a fast reader and one that
    stops reading (6 MB queue up for it) intact and in order, to clients that keep the
    common 1 MiB frame limit. Unbatched, frames are written straight to the socket and
    what the kernel refuses waits in the server's buffer; batched (a 50 ms venue window),
    no batch frame outgrows 1 MiB."""
    ctx = make_world(f"Big {batch_window_ms}", venue_kwargs={"batch_window_ms": batch_window_ms})
    topic = f"wedding:{ctx.weddings[0].pk}"
    blob = "x" * 200_000

    async def go():
        kw = {"max_size": 2**20}
        slow = await Client.connect(daphne.ws_url, ctx.token, max_queue=1, **kw)
        fast = await Client.connect(daphne.ws_url, ctx.token, **kw)
        for c in (slow, fast):
            await c.subscribe([topic])
        seqs = []
        for i in range(30):
            seqs.append(await asyncio.to_thread(publish, topic, {"i": i, "blob": blob}))
        got = {}
        for name, client in (("fast", fast), ("slow", slow)):
            try:
                got[name] = await client.messages(30, timeout=30)
            except AssertionError as exc:  # don't print 6 MB of data
                raise AssertionError(f"{name}: {str(exc)[:60]}") from None
        for messages in got.values():
            assert [m["seq"] for m in messages] == seqs
            assert [m["data"]["i"] for m in messages] == list(range(30))
            assert all(m["data"]["blob"] == blob for m in messages)

    run(go())


def test_permessage_deflate_is_negotiated_when_the_client_offers_it(daphne, world):
    """A client offering permessage-deflate gets it (small windows, see daphne_compat) and
    its frames flow both ways; a client that does not offer it gets plain frames."""
    topic = f"wedding:{world.weddings[0].pk}"
    data = {"timeline": [{"at": f"{h:02d}:00", "what": "first dance"} for h in range(24)]}

    async def go():
        deflate = await Client.connect(daphne.ws_url, world.token, compression="deflate")
        plain = await Client.connect(daphne.ws_url, world.token, compression=None)
        offered = deflate.ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert offered.startswith("permessage-deflate"), offered
        # The small window the server asks of the client (what inflating costs it).
        assert "client_max_window_bits=9" in offered, offered
        assert "Sec-WebSocket-Extensions" not in plain.ws.response.headers
        for c in (deflate, plain):
            await c.subscribe([topic])  # the client's own frame, compressed by one of them
        seq = await asyncio.to_thread(publish, topic, data)
        for c in (deflate, plain):
            (message,) = await c.messages(1)
            assert (message["seq"], message["data"]) == (seq, data)
            await c.send({"op": "ping"})
            await c.expect("pong")

    run(go())
