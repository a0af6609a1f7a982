"""A Daphne SIGTERMed while it serves requests exits within its deadline (issue 20).

It used to stay alive for good: at interpreter exit the main thread joined worker threads
stuck in AsyncToSync after the event loop had stopped, so the old process kept its port
and the new one could not bind."""

from __future__ import annotations

import contextlib
import http.client
import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import wait_for_http

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
GRACE_S = 3.0
DRAIN_S = 1.0
# drain + grace + the 2 s the interpreter gets after the server stopped, + scheduling slack
# on a shared 2-core machine.
EXIT_WITHIN_S = DRAIN_S + GRACE_S + 2.0 + 3.0


def hammer(port: int, path: str, headers: dict, stop: threading.Event, counts: dict) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            counts[response.status] = counts.get(response.status, 0) + 1
        except (OSError, http.client.HTTPException):
            counts["error"] = counts.get("error", 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            time.sleep(0.05)


def test_a_sigtermed_daphne_under_load_exits_within_its_deadline_and_frees_its_port(
    start_daphne, make_user
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("shutdown-ops", "operator")).key
    env = {
        "FRONT_SHUTDOWN_GRACE_SECONDS": str(GRACE_S),
        "FRONT_DRAIN_SECONDS": str(DRAIN_S),
        "THROTTLE_USER": "100000000/min",
    }
    server = start_daphne(env)
    stop = threading.Event()
    counts: dict = {}
    auth = {"Authorization": f"Token {token}"}
    # The API (token lookup, ORM in a thread) and /readyz, whose channel-layer probe goes
    # back to the event loop from a worker thread: the shape that used to hang.
    load = [(server.port, "/api/v1/whoami/", auth)] * 12 + [(server.port, "/readyz", {})] * 4
    threads = [threading.Thread(target=hammer, args=(*a, stop, counts)) for a in load]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while counts.get(200, 0) < 50 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counts.get(200, 0) >= 50, counts  # it was serving when the signal came
    sent = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.proc.wait(EXIT_WITHIN_S + 20)
    exited = server.proc.poll() is not None
    took = time.monotonic() - sent
    stop.set()
    for t in threads:
        t.join(40)
    if not exited:
        server.kill()
    assert exited, f"still running {took:.1f} s after SIGTERM:\n{server.output()[-3000:]}"
    assert took <= EXIT_WITHIN_S, f"exited only after {took:.1f} s"
    # The port is free again: a new process binds it and serves.
    successor = start_daphne(env, port=server.port)
    wait_for_http(f"{successor.url}/healthz", timeout=60, proc=successor.proc)
    successor.stop()
