"""The live socket, end to end through a real Daphne on PostgreSQL and Redis: an incident
opened through the API and a supplier's app dropping reach an open page within 2 s; a
revoked link closes its sockets; bad tokens are refused like the HTTP paths."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import orjson
import pytest
import websockets

from tests.conftest import run_async

pytestmark = pytest.mark.timeout(120)


def _api(base: str, token: str, path: str, body: dict | None = None, method: str = "POST"):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body or {}).encode(),
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


@pytest.fixture
def ops_token(live_world, make_user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=make_user("ops-status", "operator")).key


async def _until(ws, predicate, timeout: float) -> tuple[dict, float]:
    """The first summary frame satisfying predicate, and how long it took."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            frame = orjson.loads(await ws.recv())
            if frame.get("op") == "summary" and predicate(frame["summary"]):
                return frame["summary"], time.monotonic() - started


def _component(summary: dict, name: str) -> dict:
    return next(c for c in summary["components"] if c["name"] == name)


def test_incident_opened_through_the_api_reaches_the_open_page_within_2s(
    daphne, live_world, ops_token
):
    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/status/{live_world.token}/") as ws:
            first, _ = await _until(ws, lambda s: True, 5)
            assert first["incidents"] == []
            await asyncio.sleep(0.3)
            opened = time.monotonic()
            status, _ = await asyncio.to_thread(
                _api,
                daphne.url,
                ops_token,
                "/api/v1/incidents/",
                {
                    "emergency_type": "venue_network_failure",
                    "wedding": live_world.wedding.pk,
                    "reason": "venue router down",
                },
            )
            assert status == 201
            summary, _ = await _until(ws, lambda s: s["incidents"], 5)
            return summary, time.monotonic() - opened

    summary, took = run_async(scenario())
    assert took < 2.0, f"incident reached the page after {took:.2f}s"
    assert summary["incidents"][0]["name"].startswith("Venue network problem at ")


def test_supplier_app_dropping_turns_its_component_to_major_outage_within_2s(daphne, live_world):
    supplier = live_world.suppliers[0]
    name = f"{supplier.name} app"

    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/status/{live_world.token}/") as page:
            first, _ = await _until(page, lambda s: True, 5)
            assert _component(first, name)["status"] == "major_outage"  # live, not connected
            app = await websockets.connect(
                f"{daphne.ws_url}/ws/realtime/?token={live_world.supplier_tokens[0]}"
            )
            await app.send(
                orjson.dumps(
                    {"op": "subscribe", "topics": [f"wedding:{live_world.wedding.pk}"]}
                ).decode()
            )
            up, up_took = await _until(
                page, lambda s: _component(s, name)["status"] == "operational", 5
            )
            await asyncio.sleep(0.5)
            await app.close()
            dropped = time.monotonic()
            down, _ = await _until(
                page, lambda s: _component(s, name)["status"] == "major_outage", 5
            )
            return up, up_took, down, time.monotonic() - dropped

    up, up_took, down, took = run_async(scenario())
    assert up_took < 2.0
    assert took < 2.0, f"the drop reached the page after {took:.2f}s"
    assert _component(down, name)["description"].startswith("App disconnected")
    # The other supplier was never connected: unchanged.
    other = f"{live_world.suppliers[1].name} app"
    assert _component(down, other)["status"] == "major_outage"


def test_revoked_link_closes_open_sockets_and_bad_tokens_are_refused(daphne, live_world, ops_token):
    async def scenario():
        async with websockets.connect(f"{daphne.ws_url}/ws/status/{live_world.token}/") as ws:
            await _until(ws, lambda s: True, 5)
            status, _ = await asyncio.to_thread(
                _api,
                daphne.url,
                ops_token,
                f"/api/v1/weddings/{live_world.wedding.pk}/status-page/",
                method="DELETE",
            )
            assert status == 204
            async with asyncio.timeout(5):
                while True:
                    try:
                        await ws.recv()
                    except websockets.ConnectionClosed as closed:
                        revoked_code = closed.rcvd.code
                        break
        async with websockets.connect(f"{daphne.ws_url}/ws/status/{'Z' * 43}/") as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                guess_code = closed.rcvd.code
        return revoked_code, guess_code

    revoked_code, guess_code = run_async(scenario())
    assert revoked_code == 4404
    assert guess_code == 4404


def test_page_is_served_anonymously_by_daphne(daphne, live_world):
    with urllib.request.urlopen(f"{daphne.url}{live_world.path}", timeout=10) as response:
        body = response.read().decode()
        assert response.status == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Apps and services" in body


def test_celery_worker_runs_the_notify_pass_and_posts_the_webhook(
    celery_worker, live_world, ops_token
):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from apps.alerts import emergencies
    from apps.statuspages import subscriptions, tasks

    got: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscriptions.add_webhook(live_world.wedding, f"http://127.0.0.1:{server.server_port}/")
        emergencies.trigger("venue_network_failure", wedding=live_world.wedding, reason="x")
        tasks.notify_pass.apply_async().get(timeout=30)  # ignore_result: waits for the run
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.shutdown()
    assert got, "the worker sent nothing"
    payload = json.loads(got[0])
    assert any(c["kind"] == "incident_opened" for c in payload["changes"])
