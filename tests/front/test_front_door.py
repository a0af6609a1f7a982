"""The full stack's front door: one origin, HTTP on gunicorn, /ws/ on a Daphne per core.

Started as the Procfile starts it (HAProxy + `front serve`); the gateway's cluster-wide
parts (publish fan-out, quotas, the ops socket) must hold behind it."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.front.conftest import backend_socket
from tests.proof.helpers import csrf_pair, http_request, session_cookie
from tests.realtime.conftest import Client, make_world, run
from tests.realtime.conftest import http as api_call
from wedsync_ops import front

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staff_token(make_user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=make_user("front-ops", "admin")).key


def test_one_origin_serves_the_api_from_gunicorn_and_websockets_from_daphne(
    front_door, staff_token
):
    status, headers, body = http_request(
        front_door.url, "GET", "/api/v1/whoami/", headers={"Authorization": f"Token {staff_token}"}
    )
    assert status == 200, body
    assert headers.get("server") == "gunicorn"  # HTTP went to the WSGI server
    ctx = make_world("Front door studio")
    topic = f"wedding:{ctx.weddings[0].pk}"

    async def go() -> dict:
        # leastconn spreads four sockets over both Daphne processes.
        clients = [await Client.connect(front_door.ws_url, ctx.token) for _ in range(4)]
        for client in clients:
            await client.subscribe([topic])
        code, published = await asyncio.to_thread(
            api_call,
            f"{front_door.url}/api/v1/realtime/publish/",
            staff_token,
            {"topic": topic, "data": {"through": "the front door"}},
        )
        assert code == 202, published
        for client in clients:
            (message,) = await client.messages(1)
            assert (message["seq"], message["data"]) == (
                published["seq"],
                {"through": "the front door"},
            )
        # Both processes report their share of this supplier's sockets (stats every ~1 s).
        deadline = time.monotonic() + 15
        while True:
            code, report = await asyncio.to_thread(
                api_call, f"{front_door.url}/api/v1/realtime/health/", staff_token
            )
            busy = [p for p in report["per_process"] if p["connections"]]
            if len(busy) >= 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for client in clients:
            await client.close()
        return {"busy": busy, "report": report}

    result = run(go())
    assert len(result["busy"]) >= 2, result["report"]


def test_the_quota_holds_across_the_daphne_processes_behind_the_proxy(front_door):
    ctx = make_world("Three-seat studio", max_connections=3)

    async def go() -> int | None:
        held = [await Client.connect(front_door.ws_url, ctx.token) for _ in range(3)]
        for client in held:
            await client.send({"op": "ping"})
            await client.expect("pong")
        over = await Client.connect(front_door.ws_url, ctx.token)
        code = await over.close_code()
        for client in held:
            await client.close()
        return code

    assert run(go()) == 4429


def test_the_ops_socket_works_through_the_proxy(front_door, make_user):
    import websockets

    user = make_user("front-staff", "admin")
    cookie = session_cookie(user)
    origin = front_door.url

    async def go() -> dict:
        async with websockets.connect(
            f"{front_door.ws_url}/ws/ops/",
            additional_headers={"Cookie": f"sessionid={cookie}", "Origin": origin},
            open_timeout=10,
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send('{"op": "ping"}')
            return {"hello": hello, "pong": json.loads(await asyncio.wait_for(ws.recv(), 10))}

    result = run(go())
    assert result["hello"] == {"op": "hello", "user": "front-staff"}
    assert result["pong"] == {"op": "pong"}


def _login_attempt(door, source: str, claimed: str) -> int:
    """One empty login POST from the loopback address `source`, claiming `claimed`."""
    token, csrf_header = csrf_pair()
    conn = http.client.HTTPConnection(
        "127.0.0.1", door.config.port, timeout=30, source_address=(source, 0)
    )
    try:
        conn.request(
            "POST",
            "/accounts/login/",
            body=b"username=&password=",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
                "X-Forwarded-For": claimed,
                **csrf_header,
            },
        )
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_app_sees_the_real_client_address_not_the_one_it_claims(front_door):
    """The per-address login throttle (30 a minute) counts the client's real address
    behind the proxy: a different X-Forwarded-For on every attempt does not get round it,
    and another client (another address) still has its own allowance."""
    mine = [_login_attempt(front_door, "127.0.0.2", f"198.51.100.{i}") for i in range(31)]
    assert mine[0] == 200  # the form again, with its errors
    assert mine[-1] == 429, mine
    assert _login_attempt(front_door, "127.0.0.3", "127.0.0.2") == 200


def _unix_get(sock: Path, path: str, headers: dict | None = None) -> int:
    conn = front.UnixHTTPConnection(sock, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        return conn.getresponse().status
    finally:
        conn.close()


def test_sigterm_fails_the_health_check_first_then_exits_and_comes_back(front_door, staff_token):
    name = "http1"
    sock = backend_socket(front_door, name)
    old_pid = front_door.pids()[name]
    auth = {"Authorization": f"Token {staff_token}"}
    os.kill(old_pid, signal.SIGTERM)
    time.sleep(0.3)
    # Draining: the health check fails, but the process still serves what reaches it.
    assert _unix_get(sock, "/healthz") == 503
    assert _unix_get(sock, "/api/v1/whoami/", auth) == 200
    down_at = exited_at = None
    deadline = time.monotonic() + 30
    while (down_at is None or exited_at is None) and time.monotonic() < deadline:
        if down_at is None and front_door.proxy_view().get(name) != "UP":
            down_at = time.monotonic()
        if exited_at is None and not front.pid_alive(old_pid):
            exited_at = time.monotonic()
        time.sleep(0.05)
    assert down_at is not None and exited_at is not None
    assert down_at < exited_at, "the proxy must stop sending work before the process goes"
    front_door.wait_all_up(timeout=90)
    assert front_door.pids()[name] != old_pid


def test_a_rolling_restart_of_every_front_process_fails_no_request(front_door, staff_token):
    """scripts/rolling_restart under load: API reads and metric writes through the proxy
    the whole time, not one of them failed; every process was replaced."""
    before = front_door.pids()
    stop = threading.Event()
    results: dict[str, list] = {"ok": [], "failed": []}
    lock = threading.Lock()
    auth = {"Authorization": f"Token {staff_token}"}

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3:
                method, path, body = "GET", "/api/v1/whoami/", None
            else:
                sample = {"name": "front_rolling", "labels": {"c": str(n)}, "value": i}
                method, path, body = "POST", "/api/v1/metrics/", {"samples": [sample]}
            try:
                status, _, payload = http_request(
                    front_door.url, method, path, body=body, headers=auth, timeout=30
                )
                outcome = "ok" if status in (200, 202) else "failed"
                detail = (method, status, payload[:200])
            except (OSError, http.client.HTTPException) as exc:
                outcome, detail = "failed", (method, repr(exc))
            with lock:
                results[outcome].append(detail)
            time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    env = {**front_door.serve.env}
    restart = subprocess.run(
        [str(ROOT / "scripts" / "rolling_restart")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join(60)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    after = front_door.pids()
    assert set(after) == set(before)
    assert all(after[name] != before[name] for name in before), (before, after)
    assert results["failed"] == [], results["failed"][:10]
    assert len(results["ok"]) > 100, len(results["ok"])
