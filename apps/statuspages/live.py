"""/ws/status/<token>/: the live page's one socket (a plain ASGI app, like the gateway).

Each process keeps one StatusHub: wedding id → the sockets watching it. A watched wedding's
summary is rebuilt when a change is announced (signals.py sends `status.changed` on the
channel layer after commit: incidents, public updates, maintenance, venues) and on a short
tick (LIVE_TICK_SECONDS) for what is not a database write: a supplier's app dropping
releases its gateway lease in Redis. A summary that differs from the last one sent is
pushed to every socket of that wedding: one build per wedding per process, however many
viewers. The tick also re-checks each socket's link, so a revoked or expired link closes
its sockets (4404).

Frames, server → client: {"op": "summary", "summary": {...}}; client → server:
{"op": "ping"} → {"op": "pong"} (anything else is ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import orjson
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from apps.statuspages import conf, ratelimit
from apps.statuspages.links import hash_token, resolve

log = logging.getLogger(__name__)

GROUP = "statuspages"
CLOSE_GONE = 4404
CLOSE_TOO_MANY = 4429


@dataclass(eq=False)
class Viewer:
    send: object
    token_hash: str

    async def text(self, text: str) -> bool:
        try:
            await self.send({"type": "websocket.send", "text": text})
            return True
        except Exception:  # the peer vanished; its disconnect event cleans up
            return False

    async def close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self.send({"type": "websocket.close", "code": code})


@dataclass
class Watch:
    viewers: set = field(default_factory=set)
    last: str = ""


class StatusHub:
    def __init__(self) -> None:
        self.watches: dict[int, Watch] = {}
        self.wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        if self._listener is None or self._listener.done():
            self._listener = asyncio.ensure_future(self._listen())

    async def add(self, wedding_id: int, viewer: Viewer) -> str:
        self._ensure_running()
        watch = self.watches.setdefault(wedding_id, Watch())
        watch.viewers.add(viewer)
        if not watch.last:
            watch.last = await _frame(wedding_id, fresh=False)
        return watch.last

    def remove(self, wedding_id: int, viewer: Viewer) -> None:
        watch = self.watches.get(wedding_id)
        if watch is None:
            return
        watch.viewers.discard(viewer)
        if not watch.viewers:
            del self.watches[wedding_id]

    async def _listen(self) -> None:
        """Announcements from every process (after commit) wake the loop at once."""
        layer = get_channel_layer()
        if layer is None:
            return
        while True:
            try:
                channel = await layer.new_channel("statuspages.")
                await layer.group_add(GROUP, channel)
                while True:
                    await layer.receive(channel)
                    self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis blip: the tick still refreshes; listen again soon
                log.warning("status hub: channel layer listener failed", exc_info=True)
                await asyncio.sleep(1.0)

    async def _run(self) -> None:
        tick = conf.get("LIVE_TICK_SECONDS")
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), tick)
            self.wake.clear()
            if not self.watches:
                continue
            try:
                await self.refresh()
            except Exception:  # one bad pass must not end live updates for everyone
                log.exception("status hub refresh failed")

    async def refresh(self) -> None:
        for wedding_id, watch in list(self.watches.items()):
            hashes = {v.token_hash for v in watch.viewers}
            alive = await database_sync_to_async(_live_hashes)(wedding_id, hashes)
            for viewer in [v for v in watch.viewers if v.token_hash not in alive]:
                await viewer.close(CLOSE_GONE)
                watch.viewers.discard(viewer)
            if not watch.viewers:
                self.watches.pop(wedding_id, None)
                continue
            text = await _frame(wedding_id, fresh=True)
            if text == watch.last:
                continue
            watch.last = text
            for viewer in list(watch.viewers):
                await viewer.text(text)


def _live_hashes(wedding_id: int, hashes: set[str]) -> set[str]:
    from django.utils import timezone

    from apps.statuspages.links import window
    from apps.statuspages.models import StatusLink

    links = list(
        StatusLink.objects.filter(
            wedding_id=wedding_id, token_hash__in=hashes, revoked_at__isnull=True
        ).select_related("wedding", "wedding__venue")
    )
    now = timezone.now()
    alive = set()
    for link in links:
        start, end = window(link.wedding)
        if link.wedding.status != "cancelled" and start <= now < end:
            alive.add(link.token_hash)
    return alive


async def _frame(wedding_id: int, fresh: bool) -> str:
    return await database_sync_to_async(_build_frame)(wedding_id, fresh)


def _build_frame(wedding_id: int, fresh: bool) -> str:
    from apps.statuspages import live_data
    from apps.weddings.models import Wedding

    wedding = Wedding.objects.select_related("venue", "venue__region").get(pk=wedding_id)
    summary = live_data.summary(wedding, fresh=fresh)
    return orjson.dumps({"op": "summary", "summary": summary}).decode()


def warm_up() -> None:
    """Called once by the ASGI entry point. Otherwise the first status page request after a
    start pays ~3 s on this machine: the URLconf (every app's views, DRF, drf-spectacular),
    the page's template and the gateway store (redis-py's imports)."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    from apps.realtime.store import get_store

    get_resolver().url_patterns  # noqa: B018 (imports every view module now)
    get_template("statuspages/page.html")
    try:
        get_store()
    except Exception:  # Redis down at start-up: the first request tries again
        log.warning("status pages: gateway store not ready at start-up", exc_info=True)


_hub: StatusHub | None = None


def get_hub() -> StatusHub:
    global _hub
    if _hub is None:
        _hub = StatusHub()
    return _hub


# A viral link means thousands of handshakes with one token: each process remembers a
# resolved token for a few seconds instead of asking PostgreSQL every time. A revoked link
# still closes within a tick (StatusHub.refresh re-checks every open socket's link).
RESOLVED_TTL = 5.0
_resolved: dict[str, tuple[float, object]] = {}


def _resolve_remembered(token: str):
    now = time.monotonic()
    hit = _resolved.get(token)
    if hit and hit[0] > now:
        return hit[1]
    link = resolve(token)
    if link is not None:
        if len(_resolved) > 10_000:
            _resolved.clear()
        _resolved[token] = (now + RESOLVED_TTL, link)
    return link


def _guard(scope: dict) -> tuple[str, object] | tuple[str, None]:
    ip = ratelimit.client_ip(scope)
    if not ratelimit.allow(ip):
        return "limited", None
    token = scope["url_route"]["kwargs"].get("token", "")
    link = _resolve_remembered(token)
    if link is None:
        ratelimit.miss(ip)
        return "gone", None
    return "ok", link


def _guard_in_pool(scope: dict):
    # Not on Django's one thread-sensitive executor: a burst of handshakes would queue there
    # behind (and in front of) the console's own requests.
    from django.db import close_old_connections

    try:
        return _guard(scope)
    finally:
        close_old_connections()


async def status_socket(scope, receive, send) -> None:
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    verdict, link = await sync_to_async(_guard_in_pool, thread_sensitive=False)(scope)
    if link is None:
        # Accept, then close with a code, so a browser's script can tell "stop retrying".
        with contextlib.suppress(Exception):
            await send({"type": "websocket.accept"})
            code = CLOSE_TOO_MANY if verdict == "limited" else CLOSE_GONE
            await send({"type": "websocket.close", "code": code})
        return
    hub = get_hub()
    viewer = Viewer(send, link.token_hash)
    await send({"type": "websocket.accept"})
    try:
        first = await hub.add(link.wedding_id, viewer)
        await viewer.text(first)
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            if event["type"] == "websocket.receive" and _is_ping(event.get("text")):
                await viewer.text('{"op":"pong"}')
    finally:
        hub.remove(link.wedding_id, viewer)


def _is_ping(text: str | None) -> bool:
    if not text or len(text) > 200:
        return False
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(frame, dict) and frame.get("op") == "ping"


__all__ = ["status_socket", "get_hub", "hash_token"]
