"""A gateway rig for the client SDK tests: a real Daphne on a private Redis (so a test may
flush or restart it without hurting anyone), a supplier with weddings, a staff token that
publishes over the real API, and a small HTTP control server through which the Node
tests drive the same rig (publish, restart Daphne, flush Redis)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import Proc
from tests.realtime.conftest import http, make_world


@dataclass
class Rig:
    server: Proc
    redis: Proc
    start_daphne: object
    env: dict
    token: str  # the supplier's gateway token
    staff_token: str
    topics: list[str]
    other_topic: str  # a wedding the supplier is not assigned to
    lock: threading.Lock = field(default_factory=threading.Lock)
    restarts: int = 0

    @property
    def ws_url(self) -> str:
        return f"{self.server.ws_url}/ws/realtime/"

    def publish(self, topic: str, data: dict, deadline_s: float = 60) -> int:
        """Publish over the API; while the server restarts, retry until it answers."""
        end = time.monotonic() + deadline_s
        while True:
            with self.lock:
                url = self.server.url
            try:
                status, body = http(
                    f"{url}/api/v1/realtime/publish/",
                    self.staff_token,
                    {"topic": topic, "data": data},
                )
                if status == 202 and isinstance(body.get("seq"), int):
                    return body["seq"]
                error = f"HTTP {status}: {body}"
            except OSError as exc:  # down between stop and start
                error = repr(exc)
            if time.monotonic() > end:
                raise RuntimeError(f"publish never accepted: {error}")
            time.sleep(0.1)

    def restart(self) -> None:
        """SIGTERM the Daphne process (a deploy) and start a new one on the same port."""
        with self.lock:
            port = self.server.port
            self.server.stop()
            self.server = self.start_daphne(self.env, port=port)
            self.restarts += 1

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.redis.port).flushall()

    def config(self) -> dict:
        return {
            "ws_url": self.ws_url,
            "http_url": self.server.url,
            "token": self.token,
            "topics": self.topics,
            "other_topic": self.other_topic,
        }


@pytest.fixture
def rig(start_redis, start_daphne, transactional_db, make_user) -> Iterator[Rig]:
    from rest_framework.authtoken.models import Token

    world = make_world("SDK Studio", weddings=3)
    staff = make_user("sdk-publisher", "operator")
    redis_server = start_redis()
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "REDIS_PREFIX": f"wsosdk{uuid.uuid4().hex[:6]}",
        "THROTTLE_USER": "1000000/min",
        # Quick restarts and a short backoff ceiling keep the tests short; the shapes are
        # the production ones.
        "GATEWAY_RESTART_SPREAD": "1",
        "GATEWAY_RECONNECT_MAX_MS": "4000",
        "GATEWAY_RESTART_RECONNECT_MAX_MS": "1500",
    }
    server = start_daphne(env)
    rig = Rig(
        server=server,
        redis=redis_server,
        start_daphne=start_daphne,
        env=env,
        token=world.token,
        staff_token=Token.objects.create(user=staff).key,
        topics=[f"wedding:{w.pk}" for w in world.weddings],
        other_topic=f"wedding:{world.other_wedding.pk}",
    )
    yield rig
    rig.server.stop()


class _Control(BaseHTTPRequestHandler):
    rig: Rig

    def log_message(self, *args) -> None:  # quiet: the test output is the assertions
        return

    def _reply(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path == "/config":
            return self._reply(200, self.rig.config())
        self._reply(404, {"detail": "unknown"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        try:
            if self.path == "/publish":
                return self._reply(200, {"seq": self.rig.publish(body["topic"], body["data"])})
            if self.path == "/restart":
                threading.Thread(target=self.rig.restart, daemon=True).start()
                return self._reply(202, {"restarting": True})
            if self.path == "/restart-sync":
                self.rig.restart()
                return self._reply(200, {"restarted": True})
            if self.path == "/flush":
                self.rig.flush()
                return self._reply(200, {"flushed": True})
        except Exception as exc:  # reported to the Node test, which fails on it
            return self._reply(500, {"detail": repr(exc)})
        self._reply(404, {"detail": "unknown"})


@pytest.fixture
def control(rig) -> Iterator[str]:
    """The rig behind an HTTP control server: its base URL."""
    handler = type("Control", (_Control,), {"rig": rig})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
