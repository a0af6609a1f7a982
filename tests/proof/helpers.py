"""Small helpers shared by the proof tests (real HTTP and WebSocket clients)."""

from __future__ import annotations

import asyncio
import http.client
import json
import secrets
from urllib.parse import urlsplit

import websockets


def session_cookie(user) -> str:
    """A real session for `user` in the test database (Daphne subprocesses read it)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def http_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: object | None = None,
    headers: dict | None = None,
    timeout: float = 10,
) -> tuple[int, dict, bytes]:
    """One request with no retries and no redirects: (status, headers, body)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def csrf_pair() -> tuple[str, dict]:
    """A CSRF cookie value and the header that matches it (Django's double submit)."""
    token = secrets.token_hex(16)  # 32 characters, as Django's unmasked secret
    return token, {"X-CSRFToken": token}


async def recv_json(ws, timeout: float = 5) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def close_code(url: str, **kwargs) -> int | None:
    """The close code (or HTTP status of a refused handshake) a server answers with."""
    try:
        async with websockets.connect(url, open_timeout=5, **kwargs) as ws:
            while True:
                await asyncio.wait_for(ws.recv(), timeout=5)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    except TimeoutError:
        return None
