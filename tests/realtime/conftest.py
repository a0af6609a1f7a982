"""Fixtures for the gateway: suppliers with weddings, staff tokens, a WebSocket client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.request
from dataclasses import dataclass

import orjson
import pytest
import websockets


@dataclass
class SupplierCtx:
    supplier: object
    token: str
    weddings: list
    other_wedding: object


def make_world(
    name: str = "Lens & Light",
    *,
    weddings: int = 2,
    max_connections: int = 250,
    venue_kwargs: dict | None = None,
    live: bool = False,
    **supplier_kwargs,
) -> SupplierCtx:
    from apps.weddings.models import Region, Supplier, Venue, Wedding

    region, _ = Region.objects.get_or_create(
        code="uk-south", defaults={"name": "UK South", "timezone": "Europe/London"}
    )

    def new_venue(label: str) -> object:
        # One venue per wedding: a venue cannot host overlapping weddings.
        return Venue.objects.create(
            name=f"{name} venue {label}",
            venue_type="banquet_hall",
            region=region,
            timezone="Europe/London",
            **(venue_kwargs or {}),
        )

    supplier = Supplier.objects.create(
        name=name, max_connections=max_connections, **supplier_kwargs
    )
    token = supplier.issue_token()
    day = dt.date.today() + dt.timedelta(days=40)
    mine = []
    for i in range(weddings):
        venue = new_venue(str(i))
        now_local = dt.datetime.now(dt.UTC).astimezone(venue.tz)
        w = Wedding.objects.create(
            date=now_local.date() if live else day,
            ceremony_time=(now_local - dt.timedelta(minutes=30)).time() if live else dt.time(14),
            reception_end_time=(now_local + dt.timedelta(hours=3)).time() if live else dt.time(23),
            venue=venue,
            couple_name=f"{name} couple {i}",
        )
        w.suppliers.add(supplier)
        mine.append(w)
    other = Wedding.objects.create(
        date=day,
        ceremony_time=dt.time(12, 0),
        reception_end_time=dt.time(22, 0),
        venue=new_venue("other"),
        couple_name=f"{name} not theirs",
    )
    return SupplierCtx(supplier, token, mine, other)


@pytest.fixture
def world(transactional_db) -> SupplierCtx:
    return make_world()


@pytest.fixture
def staff_token(transactional_db, make_user) -> str:
    from rest_framework.authtoken.models import Token

    user = make_user("ops-gw", "operator")
    return Token.objects.create(user=user).key


def http(url: str, token: str, body: dict | None = None, method: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method or ("POST" if body is not None else "GET"),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Client:
    """A real WebSocket client speaking the gateway protocol; answers server pings unless
    told not to, and keeps the `hello` frame aside (`.hello`)."""

    def __init__(self, ws, auto_pong: bool = True):
        self.ws = ws
        self.auto_pong = auto_pong
        self.pings = 0
        self.hello: dict | None = None  # the server's first frame, kept aside

    @classmethod
    async def connect(cls, base_ws: str, token: str, auto_pong: bool = True, **kw) -> Client:
        ws = await websockets.connect(
            f"{base_ws}/ws/realtime/?token={token}", **{"max_size": 4 * 2**20, **kw}
        )
        return cls(ws, auto_pong)

    async def send(self, frame) -> None:
        await self.ws.send(
            frame if isinstance(frame, str | bytes) else orjson.dumps(frame).decode()
        )

    async def recv(self, timeout: float = 5.0) -> dict:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when
            # the read completes as the task is cancelled, swallowing the cancellation; a
            # task reading a 1 s heartbeat then never ends (seen once in CI).
            async with asyncio.timeout(timeout):
                raw = await self.ws.recv()
            frame = orjson.loads(raw)
            if frame.get("op") == "hello" and self.hello is None:
                self.hello = frame
                continue
            if frame.get("op") == "ping":
                self.pings += 1
                if self.auto_pong:
                    await self.send({"op": "pong"})
                continue
            return frame

    async def expect(self, op: str, timeout: float = 5.0) -> dict:
        frame = await self.recv(timeout)
        assert frame.get("op") == op, frame
        return frame

    async def subscribe(self, topics: list[str], since: dict | None = None) -> dict:
        frame = {"op": "subscribe", "topics": topics}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        return await self.expect("subscribed")

    async def messages(self, n: int, timeout: float = 10.0) -> list[dict]:
        """The next n messages, unpacking batch frames."""
        out: list[dict] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(out) < n:
            try:
                frame = await self.recv(max(0.01, deadline - loop.time()))
            except TimeoutError:
                summary = [(m["topic"], m["seq"], m["data"]) for m in out]
                raise AssertionError(f"{len(out)} of {n} messages arrived: {summary}") from None
            if frame["op"] == "batch":
                out.extend(frame["messages"])
            elif frame["op"] == "message":
                out.append(frame)
            else:
                raise AssertionError(f"unexpected frame {frame}")
        return out

    async def close_code(self, timeout: float = 5.0) -> int | None:
        """The close code the server sends within `timeout` (frames before it are skipped).

        Bounded overall: a server that keeps sending pings but never closes fails the test
        instead of hanging it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            raise AssertionError(f"the server did not close within {timeout}s") from None

    async def close(self) -> None:
        await self.ws.close()


def lease_count(supplier_id: int) -> int:
    """Live quota leases of a supplier, read straight from Redis."""
    import time as _time

    from apps.realtime.store import get_store

    store = get_store()
    return store.sync.zcount(store.k_lease(supplier_id), int(_time.time() * 1000), "+inf")


def run(coro, timeout: float = 120.0):
    """asyncio.run on a thread of its own (Playwright may own this thread's event loop),
    bounded so a stuck scenario fails the test rather than hanging the suite."""
    from tests.conftest import run_async

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return run_async(bounded(), timeout=timeout + 30)
