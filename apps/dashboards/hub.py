"""Per-process fan-out of live samples to the ops sockets of this Daphne process.

Channels' group_send costs ~300 µs of Python per member per message (FACTS.md), so 200
pages x 12 series x 1 update/s would need most of a core. Instead, as DESIGN.md proposes
for hot paths: the ingesting process PUBLISHes each batch once on one Redis channel;
every Daphne process holds ONE subscription to it and a local map metric -> sockets,
serialises each page's frames once per distinct subscription set and writes to its own
sockets directly, one WebSocket message per page per batch.

The map only says which sockets are open in this process (it cannot be shared); every
fact another process needs (sequence numbers) lives in Redis. When the subscription drops
(a Redis blip), frames are lost: on reconnect the hub tells each page to resync.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Protocol

import orjson
from django.conf import settings

log = logging.getLogger(__name__)


def channel() -> str:
    return f"{settings.REDIS_PREFIX}:ops:samples"


# Which metric names some page watches, shared by all processes: a sorted set of
# name -> expiry (unix s). Ingest builds and publishes frames only for these (live.py);
# a hub keeps its own pages' names in it while they are open.
WATCH_SECONDS = 30.0
WATCH_REFRESH_SECONDS = 10.0


def watched_key() -> str:
    return f"{settings.REDIS_PREFIX}:ops:watched"


def watched_version_key() -> str:
    """Bumped after every change of the watched set: ingest re-reads the set when it moves,
    so a page's new subscription is honoured by every batch committed after its ack."""
    return f"{settings.REDIS_PREFIX}:ops:watched:v"


class Socket(Protocol):
    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.by_name: dict[str, set[Socket]] = defaultdict(set)
        self.names: dict[Socket, frozenset[str]] = {}
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._connected_once = False
        self._watch_client = None
        self._watch_marked = 0.0
        self.delivered = 0

    # --- sockets ------------------------------------------------------------------
    async def register(self, socket: Socket, names: frozenset[str]) -> None:
        """(Re)place a socket's subscription; waits (≤ 2 s) until the feed is listening."""
        self.unregister(socket)
        if names:
            self.names[socket] = names
            for name in names:
                self.by_name[name].add(socket)
            await self._mark_watched(names)
        self._ensure_task()
        try:
            await asyncio.wait_for(self.ready.wait(), 2)
        except TimeoutError:
            pass  # Redis away: the page still connects; it resyncs when the feed returns

    def unregister(self, socket: Socket) -> None:
        for name in self.names.pop(socket, ()):
            members = self.by_name.get(name)
            if members is not None:
                members.discard(socket)
                if not members:
                    del self.by_name[name]

    async def _mark_watched(self, names: frozenset[str] | set[str]) -> None:
        """Tell ingest (every process) that these names have a page open, for a while."""
        if not names:
            return
        import redis.asyncio as aioredis

        for attempt in (1, 2):  # a connection broken by a Redis restart fails once
            if self._watch_client is None:
                self._watch_client = aioredis.Redis.from_url(
                    settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
                )
            try:
                now = time.time()
                async with self._watch_client.pipeline(transaction=False) as pipe:
                    pipe.zadd(watched_key(), dict.fromkeys(names, now + WATCH_SECONDS))
                    pipe.zremrangebyscore(watched_key(), "-inf", now)  # pages long gone
                    pipe.incr(watched_version_key())
                    await pipe.execute()
                self._watch_marked = time.monotonic()
                return
            except Exception:  # Redis away: pages resync by sequence number when it returns
                client, self._watch_client = self._watch_client, None
                try:
                    await client.aclose()
                except Exception:
                    log.debug("closing a broken watch connection failed", exc_info=True)
                if attempt == 2:
                    log.debug("could not mark watched metric names", exc_info=True)

    async def _refresh_watched(self) -> None:
        if self.by_name and time.monotonic() - self._watch_marked >= WATCH_REFRESH_SECONDS:
            await self._mark_watched(set(self.by_name))

    # --- feed ---------------------------------------------------------------------
    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        backoff = 0.2
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(channel())
                self.ready.set()
                if self._connected_once:
                    # Redis may have come back empty: say again what this process's
                    # pages watch before telling them to reload.
                    await self._mark_watched(set(self.by_name))
                    await self._broadcast('{"op":"resync","reason":"live feed reconnected"}')
                self._connected_once = True
                backoff = 0.2
                while True:
                    message = await pubsub.get_message(timeout=WATCH_REFRESH_SECONDS)
                    if message is not None:
                        await self.dispatch(message["data"])
                    await self._refresh_watched()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: retry with backoff, pages resync after
                self.ready.clear()
                log.warning("ops live feed lost (%s); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # already broken
                    log.debug("closing a broken feed connection failed", exc_info=True)

    async def dispatch(self, payload: bytes | str) -> int:
        """Send one published batch to this process's sockets: one message per socket."""
        try:
            frames = orjson.loads(payload)["frames"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ops live feed: malformed batch ignored")
            return 0
        wanted: dict[Socket, list[dict]] = defaultdict(list)
        for frame in frames:
            for socket in self.by_name.get(frame.get("name"), ()):
                wanted[socket].append(frame)
        # Pages showing the same dashboard get the same bytes: serialise once per set.
        texts: dict[tuple[int, ...], str] = {}
        sent = 0
        for socket, mine in wanted.items():
            key = tuple(id(f) for f in mine)
            text = texts.get(key)
            if text is None:
                body = mine[0] if len(mine) == 1 else {"op": "batch", "frames": mine}
                text = texts[key] = orjson.dumps(body).decode()
            try:
                await socket.send(text_data=text)
                sent += 1
            except Exception:  # a socket closing under us: its disconnect unregisters it
                log.debug("ops push to a closing socket skipped", exc_info=True)
        self.delivered += sent
        return sent

    async def _broadcast(self, text: str) -> None:
        for socket in list(self.names):
            try:
                await socket.send(text_data=text)
            except Exception:  # closing under us
                log.debug("resync notice to a closing socket skipped", exc_info=True)


_hubs: dict[int, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (Daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(id(loop))
    if found is None:
        found = _hubs[id(loop)] = Hub()
    return found
