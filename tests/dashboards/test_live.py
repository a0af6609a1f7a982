"""/ws/ops/ over a real Daphne and Redis: subscriptions, sequence numbers, bad frames."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets

from apps.dashboards import live

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def run(coro) -> object:
    """asyncio.run in its own thread: Playwright's sync API leaves a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=60)


async def recv_op(ws, op: str, timeout: float = 5.0) -> dict:
    """The next frame with this op ("batch" frames are unpacked into their samples)."""
    pending = getattr(ws, "_pending", [])
    ws._pending = pending
    while True:
        frame = (
            pending.pop(0) if pending else json.loads(await asyncio.wait_for(ws.recv(), timeout))
        )
        if frame["op"] == "batch" and op != "batch":
            pending[:0] = frame["frames"]
            continue
        if frame["op"] == op:
            return frame


def test_subscribe_receives_only_subscribed_metrics_in_sequence(daphne, operator_user):
    headers = {"Cookie": session_cookie(operator_user), "Origin": daphne.url}

    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/ops/", additional_headers=headers) as ws:
            assert (await recv_op(ws, "hello"))["user"] == "oscar-operator"
            await ws.send(json.dumps({"op": "subscribe", "series": ["test_live_a"]}))
            sub = await recv_op(ws, "subscribed")
            start = sub["series"]["test_live_a"]["seq"]
            assert sub["series"]["test_live_a"]["stream"] == live.stream_for("test_live_a")

            await asyncio.to_thread(
                live.push_samples,
                [("test_live_b", {}, 1.0, 9.0), ("test_live_a", {"x": "1"}, 2.0, 42.0)],
            )
            frame = await recv_op(ws, "samples")
            assert frame["name"] == "test_live_a"
            assert frame["seq"] == start + 1
            assert frame["samples"] == [[{"x": "1"}, 2.0, 42.0]]

            # Re-subscribing replaces the set: a now drops out, b comes in.
            await ws.send(json.dumps({"op": "subscribe", "series": [{"name": "test_live_b"}]}))
            await recv_op(ws, "subscribed")
            await asyncio.to_thread(
                live.push_samples, [("test_live_a", {}, 3.0, 1.0), ("test_live_b", {}, 3.0, 7.0)]
            )
            frame = await recv_op(ws, "samples")
            assert (frame["name"], frame["samples"][0][2]) == ("test_live_b", 7.0)

            # One batch with two subscribed metrics arrives as one message.
            await ws.send(json.dumps({"op": "subscribe", "series": ["test_live_a", "test_live_b"]}))
            await recv_op(ws, "subscribed")
            await asyncio.to_thread(
                live.push_samples, [("test_live_a", {}, 5.0, 1.0), ("test_live_b", {}, 5.0, 2.0)]
            )
            batch = await recv_op(ws, "batch")
            assert [f["name"] for f in batch["frames"]] == ["test_live_a", "test_live_b"]

            # A sequence gap is visible to the page: numbers are shared across processes.
            before = (await asyncio.to_thread(live.current_seqs, [live.stream_for("test_live_b")]))[
                0
            ]
            await asyncio.to_thread(
                live.next_seqs, [live.stream_for("test_live_b")]
            )  # a lost frame
            await asyncio.to_thread(live.push_samples, [("test_live_b", {}, 4.0, 8.0)])
            frame = await recv_op(ws, "samples")
            assert frame["seq"] == before + 2

    run(scenario())


def test_metrics_no_page_watches_are_not_published_but_their_stream_advances(daphne, operator_user):
    """Ingest builds frames only for watched metrics (the cost of a POST), yet a page that
    subscribes later continues exactly from the number its ack gave it."""
    headers = {"Cookie": session_cookie(operator_user), "Origin": daphne.url}
    stream = live.stream_for("test_unwatched")

    async def scenario():
        before = (await asyncio.to_thread(live.current_seqs, [stream]))[0]
        published = await asyncio.to_thread(live.push_samples, [("test_unwatched", {}, 1.0, 1.0)])
        assert published == 0  # nobody watches it: nothing built, nothing sent
        assert (await asyncio.to_thread(live.current_seqs, [stream]))[0] == before + 1
        async with websockets.connect(f"{daphne.ws_url}/ws/ops/", additional_headers=headers) as ws:
            await recv_op(ws, "hello")
            await ws.send(json.dumps({"op": "subscribe", "series": ["test_unwatched"]}))
            start = (await recv_op(ws, "subscribed"))["series"]["test_unwatched"]["seq"]
            assert start == before + 1
            # At once, in this very process that just saw the metric unwatched.
            published = await asyncio.to_thread(
                live.push_samples, [("test_unwatched", {}, 2.0, 2.0)]
            )
            assert published == 1
            frame = await recv_op(ws, "samples")
            assert (frame["seq"], frame["samples"][0][2]) == (start + 1, 2.0)

    run(scenario())


def test_bad_frames_get_errors_and_the_socket_survives(daphne, operator_user):
    headers = {"Cookie": session_cookie(operator_user), "Origin": daphne.url}

    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/ops/", additional_headers=headers) as ws:
            await recv_op(ws, "hello")
            for bad, code in [
                ("{nope", "bad_json"),
                ("[1]", "bad_frame"),
                ('{"op": "dance"}', "unknown_op"),
                ('{"op": "subscribe", "series": "x"}', "bad_subscribe"),
                ('{"op": "subscribe", "series": ["ok", "no spaces"]}', "bad_subscribe"),
                (json.dumps({"op": "subscribe", "series": ["m"] * 201}), "bad_subscribe"),
            ]:
                await ws.send(bad)
                err = await recv_op(ws, "error")
                assert err["code"] == code, bad
            await ws.send('{"op": "ping"}')
            assert (await recv_op(ws, "pong"))["op"] == "pong"

    run(scenario())


def test_refuses_anonymous_and_non_staff(daphne, make_user):
    """Closing before accept makes Daphne refuse the handshake with HTTP 403."""

    async def refused(headers: dict) -> int:
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(f"{daphne.ws_url}/ws/ops/", additional_headers=headers):
                pass
        return info.value.response.status_code

    plain = make_user("pat", None)
    assert run(refused({"Origin": daphne.url})) == 403
    assert run(refused({"Origin": daphne.url, "Cookie": session_cookie(plain)})) == 403
    assert run(refused({"Origin": "http://evil.example"})) == 403


def test_ingest_over_the_api_reaches_a_subscribed_socket(daphne, operator_user, admin_user_):
    """The whole path: POST /api/v1/metrics/ -> commit -> samples_ingested -> /ws/ops/."""
    import urllib.request

    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=admin_user_).key
    headers = {"Cookie": session_cookie(operator_user), "Origin": daphne.url}

    def post(value: float) -> None:
        body = json.dumps(
            {"samples": [{"name": "test_e2e", "labels": {"r": "uk"}, "value": value}]}
        )
        req = urllib.request.Request(
            f"{daphne.url}/api/v1/metrics/",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 202

    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/ops/", additional_headers=headers) as ws:
            await recv_op(ws, "hello")
            await ws.send(json.dumps({"op": "subscribe", "series": ["test_e2e"]}))
            await recv_op(ws, "subscribed")
            await asyncio.to_thread(post, 12.5)
            frame = await recv_op(ws, "samples")
            assert frame["name"] == "test_e2e"
            assert frame["samples"][0][0] == {"r": "uk"} and frame["samples"][0][2] == 12.5

    run(scenario())


def test_a_redis_blip_tells_the_page_to_resync(start_daphne, start_redis, operator_user):
    """Kill the Redis the feed listens on, bring it back: the socket stays up and is told
    to reload its snapshot, and frames published after the blip arrive again."""
    redis_server = start_redis()
    env = {"REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0"}
    server = start_daphne(extra_env=env)
    headers = {"Cookie": session_cookie(operator_user), "Origin": server.url}

    def publish(value: float) -> None:
        from django.test import override_settings

        with override_settings(REDIS_URL=env["REDIS_URL"]):
            live._redis = None
            try:
                live.push_samples([("test_blip", {}, 1.0, value)])
            finally:
                live._redis = None

    async def scenario():
        async with websockets.connect(f"{server.ws_url}/ws/ops/", additional_headers=headers) as ws:
            await recv_op(ws, "hello")
            await ws.send(json.dumps({"op": "subscribe", "series": ["test_blip"]}))
            await recv_op(ws, "subscribed")
            await asyncio.to_thread(publish, 1.0)
            assert (await recv_op(ws, "samples"))["samples"][0][2] == 1.0
            await asyncio.to_thread(redis_server.kill)
            await asyncio.to_thread(start_redis, redis_server.port)
            notice = await recv_op(ws, "resync", timeout=15)
            assert "reconnected" in notice["reason"]
            await asyncio.to_thread(publish, 2.0)
            frame = await recv_op(ws, "samples")
            assert frame["samples"][0][2] == 2.0 and frame["seq"] == 1  # Redis came back empty

    run(scenario())
