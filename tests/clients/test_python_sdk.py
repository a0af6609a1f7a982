"""The Python SDK (clients/python, `wedsync_realtime`) against the real Daphne gateway, and
against fake servers for what a real one will not do on demand (garbage frames, 4429)."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time

import pytest
import websockets
import wedsync_realtime

from tests.realtime.conftest import run


def _assert_exactly_once_in_order(seqs: list[int], acked: list[int], what: str) -> None:
    holes = [(a, b) for a, b in zip(seqs, seqs[1:], strict=False) if b != a + 1]
    assert not holes, f"{what}: holes or duplicates at {holes[:5]}"
    missing = sorted(set(acked) - set(seqs))
    assert not missing, f"{what}: acknowledged publishes never delivered: {missing[:10]}"


@pytest.mark.django_db(transaction=True)
def test_restart_mid_stream_delivers_everything_once_in_order(rig):
    topic = rig.topics[0]
    acked: list[int] = []
    stop = threading.Event()

    def publisher() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            acked.append(rig.publish(topic, {"n": n}))
            time.sleep(0.02)

    async def scenario() -> tuple[list, list, list]:
        states: list[str] = []
        client = wedsync_realtime.connect(rig.ws_url, rig.token, on_state=states.append)
        async with client:
            sub = await client.subscribe(topic)
            got: list[wedsync_realtime.Message] = []
            thread = threading.Thread(target=publisher, daemon=True)
            thread.start()
            while len(got) < 10:
                got.append(await sub.get(timeout=10))
            await asyncio.to_thread(rig.restart)
            await asyncio.sleep(1.0)  # publishing on the new process
            stop.set()
            await asyncio.to_thread(thread.join, 60)
            while not got or got[-1].seq < acked[-1]:
                got.append(await sub.get(timeout=30))
            return [m.seq for m in got], client.closes, states

    seqs, closes, states = run(scenario(), timeout=180)
    _assert_exactly_once_in_order(seqs, acked, "across the restart")
    assert closes[0] == 1012, closes  # the old process said it was restarting
    assert states.count("connected") >= 2, states


@pytest.mark.django_db(transaction=True)
def test_messages_published_while_away_are_replayed_on_resume(rig, tmp_path):
    topic = rig.topics[1]
    store = wedsync_realtime.JsonFileStore(tmp_path / "positions.json")

    async def scenario() -> tuple[list, list, list]:
        async with wedsync_realtime.connect(rig.ws_url, rig.token, store=store) as client:
            sub = await client.subscribe(topic)
            for i in range(1, 4):
                await asyncio.to_thread(rig.publish, topic, {"n": i})
            first = [await sub.get(timeout=10) for _ in range(3)]
        # The app is gone (its positions are on disk); messages keep coming.
        for i in range(4, 9):
            await asyncio.to_thread(rig.publish, topic, {"n": i})
        reopened = wedsync_realtime.JsonFileStore(tmp_path / "positions.json")
        async with wedsync_realtime.connect(rig.ws_url, rig.token, store=reopened) as client:
            sub = await client.subscribe(topic)
            replayed = [await sub.get(timeout=10) for _ in range(5)]
            await asyncio.to_thread(rig.publish, topic, {"n": 9})
            live = await sub.get(timeout=10)
            return first, replayed + [live], sub.gaps

    first, second, gaps = run(scenario())
    assert [m.data["n"] for m in first] == [1, 2, 3]
    assert [m.data["n"] for m in second] == [4, 5, 6, 7, 8, 9]
    assert [m.replayed for m in second] == [True] * 5 + [False]
    _assert_exactly_once_in_order([m.seq for m in first + second], [], "live then replayed")
    assert gaps == []


@pytest.mark.django_db(transaction=True)
def test_redis_flushed_means_not_recovered_and_a_gap(rig):
    topic = rig.topics[2]

    async def scenario():
        async with wedsync_realtime.connect(rig.ws_url, rig.token) as client:
            sub = await client.subscribe(topic)
            for i in range(1, 4):
                await asyncio.to_thread(rig.publish, topic, {"n": i})
            [await sub.get(timeout=10) for _ in range(3)]
            before = sub.position
        await asyncio.to_thread(rig.flush)
        await asyncio.to_thread(rig.publish, topic, {"n": 4})
        gaps: list = []
        async with wedsync_realtime.connect(rig.ws_url, rig.token) as client:
            sub = await client.subscribe(
                topic, since=before.seq, epoch=before.epoch, on_gap=gaps.append
            )
            after = sub.position
            await asyncio.to_thread(rig.publish, topic, {"n": 5})
            live = await sub.get(timeout=10)
        return before, after, gaps, live

    before, after, gaps, live = run(scenario())
    assert [g.reason for g in gaps] == ["not_recovered"]
    assert gaps[0].since == before.seq and gaps[0].epoch == before.epoch
    assert after.epoch != before.epoch
    assert live.data == {"n": 5} and not live.replayed  # nothing from the lost history


@pytest.mark.django_db(transaction=True)
def test_a_refused_token_is_not_retried(rig):
    async def scenario():
        client = wedsync_realtime.connect(rig.ws_url, "wss_not-a-token")
        with pytest.raises(wedsync_realtime.AuthError):
            await client.connect()
        await asyncio.sleep(2)
        asked = []

        async def fresh() -> str:
            asked.append(1)
            return rig.token

        refreshed = wedsync_realtime.connect(rig.ws_url, "wss_expired", get_token=fresh)
        async with refreshed:
            state = refreshed.state
        return client.attempts, client.state, len(asked), refreshed.attempts, state

    attempts, state, asked, refreshed_attempts, refreshed_state = run(scenario())
    assert (attempts, state) == (1, "closed")
    assert (asked, refreshed_attempts, refreshed_state) == (1, 2, "connected")


# --- fake servers -----------------------------------------------------------------


def _hello(**extra) -> str:
    frame = {"op": "hello", "heartbeat_s": 25, "reconnect": {"min_ms": 20, "max_ms": 600}}
    return json.dumps({**frame, "epoch": "e1", "server": "fake", **extra})


def _garbage(rnd: random.Random, topic: str) -> str | bytes:
    values = [None, True, -1, 1.5, 2**60, "7", "", [], {}, {"seq": 3}, "\x00", [1, 2]]
    ops = ["message", "batch", "subscribed", "error", "hello", "ping", "zzz", 5, None]
    kinds = [
        lambda: "".join(chr(rnd.randrange(1, 0xD7FF)) for _ in range(rnd.randrange(1, 40))),
        lambda: "{" + "[" * rnd.randrange(50),
        lambda: bytes(rnd.randrange(256) for _ in range(8)),
        lambda: json.dumps(rnd.choice(values)),
        lambda: json.dumps({"op": rnd.choice(ops)}),
        lambda: json.dumps(
            {
                "op": "message",
                "topic": rnd.choice([topic, 5, None]),
                "seq": rnd.choice(values),
                "data": rnd.choice(values),
            }
        ),
        lambda: json.dumps({"op": "batch", "messages": rnd.choice([None, "x", [None, 1], {}])}),
        lambda: json.dumps(
            {"op": "subscribed", "topics": rnd.choice([None, topic, [topic, 3]]), "positions": 5}
        ),
        lambda: json.dumps(
            {"op": "error", "code": "replay_gap", "topic": topic, "current": rnd.choice(values)}
        ),
        lambda: json.dumps({"op": "hello", "heartbeat_s": rnd.choice(values), "reconnect": 1}),
    ]
    return rnd.choice(kinds)()


@pytest.mark.parametrize("seed", [1, 99, 2026])
def test_frame_fuzzer_garbage_never_reaches_the_app(seed):
    topic = "wedding:1"
    rnd = random.Random(seed)
    last = 0

    async def handler(ws) -> None:
        nonlocal last
        await ws.send(_hello())
        frame = json.loads(await ws.recv())
        assert frame["op"] == "subscribe"
        positions = {topic: {"seq": 0, "epoch": "e1"}}
        await ws.send(json.dumps({"op": "subscribed", "topics": [topic], "positions": positions}))
        for i in range(1500):
            await ws.send(_garbage(rnd, topic))
            if i % 100 == 0:
                last += 1
                await ws.send(json.dumps({"op": "message", "topic": topic, "seq": last, "data": i}))
        await ws.wait_closed()

    async def scenario() -> tuple[list, str]:
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with wedsync_realtime.connect(f"ws://127.0.0.1:{port}/", "t") as client:
                sub = await client.subscribe(topic)
                got = []
                while not got or got[-1].seq < 15:
                    got.append(await sub.get(timeout=10))
                return got, client.state

    got, state = run(scenario(), timeout=60)
    assert [m.seq for m in got] == list(range(1, 16))  # every valid one, once, in order
    assert all(isinstance(m.data, int) for m in got)
    assert state == "connected"


def test_over_quota_backs_off_to_the_ceiling_and_a_restart_comes_back_inside_its_hint():
    opened: list[float] = []
    script = [4429, 1012, None]

    async def handler(ws) -> None:
        opened.append(time.monotonic())
        code = script[min(len(opened) - 1, len(script) - 1)]
        if code == 4429:
            await ws.close(4429)
            return
        await ws.send(_hello())
        if code == 1012:
            await ws.close(1012, '{"reconnect":{"min_ms":50,"max_ms":80}}')
            return
        await ws.wait_closed()

    async def scenario() -> list[int | None]:
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            backoff = wedsync_realtime.Backoff(min_ms=20, max_ms=600, rand=lambda: 0.0)
            client = wedsync_realtime.connect(f"ws://127.0.0.1:{port}/", "t", backoff=backoff)
            await client.connect()  # the first attempt is refused (4429), then 1012, then up
            while len(opened) < 3:
                await asyncio.sleep(0.01)
            await client.close()
            return client.closes

    closes = run(scenario(), timeout=30)
    gaps = [b - a for a, b in zip(opened, opened[1:], strict=False)]
    assert closes[:2] == [4429, 1012]
    assert gaps[0] >= 0.3, f"after 4429 came back in {gaps[0]:.3f}s (ceiling 0.6 s)"
    assert 0.05 <= gaps[1] < 0.3, f"after 1012 came back in {gaps[1]:.3f}s (hint 50-80 ms)"
