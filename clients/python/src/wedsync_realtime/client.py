"""The asyncio client: one WebSocket, every topic resumed with `since` after a reconnect,
each message delivered once and in seq order. The same behaviour as the JavaScript SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol
from urllib.parse import quote

import websockets

from wedsync_realtime.backoff import Backoff, close_action, restart_hint

log = logging.getLogger("wedsync_realtime")

State = Literal["connecting", "connected", "disconnected", "closed"]
WATCHDOG_GRACE_S = 10.0  # silence allowed beyond the server's ping interval
HELLO_WAIT_S = 3.0  # a server without hello: connected once open this long


def _is_seq(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


class Position(NamedTuple):
    seq: int | None
    epoch: str | None


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    seq: int
    data: Any
    ts: float | None
    replayed: bool  # True when it came from the server's history after a resume


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages the server cannot replay: refetch the topic's state, then carry on."""

    topic: str
    reason: str  # not_recovered | replay_gap | hole
    since: int | None
    current: int
    epoch: str | None = None
    oldest: int | None = None


class AuthError(Exception):
    """The gateway refused the token (4401); not retried (get_token is asked once)."""

    def __init__(self, code: int | None):
        super().__init__(f"token refused by the gateway ({code})")
        self.code = code


class SubscribeError(Exception):
    def __init__(self, frame: dict):
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.frame = frame


class PositionStore(Protocol):
    """Where positions survive a restart of the app (JsonFileStore, or your own)."""

    def get(self, topic: str) -> Position | None: ...
    def set(self, topic: str, position: Position) -> None: ...
    def delete(self, topic: str) -> None: ...


class JsonFileStore:
    """Positions in one JSON file, written on each change (atomically, via rename)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._data: dict[str, list] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self._data = {}

    def get(self, topic: str) -> Position | None:
        value = self._data.get(topic)
        if isinstance(value, list) and len(value) == 2 and _is_seq(value[0]):
            return Position(value[0], value[1] if isinstance(value[1], str) else None)
        return None

    def set(self, topic: str, position: Position) -> None:
        self._data[topic] = [position.seq, position.epoch]
        self._write()

    def delete(self, topic: str) -> None:
        if self._data.pop(topic, None) is not None:
            self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data))
        tmp.replace(self.path)


class Subscription:
    """A topic the app follows: `async for msg in sub` (ends when the client closes)."""

    def __init__(self, client: Client, topic: str, on_gap: Callable[[Gap], object] | None = None):
        self._client = client
        self.topic = topic
        self.on_gap = on_gap
        self.gaps: list[Gap] = []
        self.active = True
        self._seq: int | None = None
        self._epoch: str | None = None
        self._replay_until = 0
        self._awaiting = False
        self._confirmed: asyncio.Future | None = None
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()

    @property
    def position(self) -> Position:
        return Position(self._seq, self._epoch)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # every later read ends too
            raise StopAsyncIteration
        return item

    async def get(self, timeout: float | None = None) -> Message:
        """The next message (TimeoutError after `timeout` seconds)."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    async def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            await self._client._drop(self)


class Client:
    def __init__(
        self,
        url: str,
        token: str = "",
        *,
        get_token: Callable[[], Awaitable[str] | str] | None = None,
        store: PositionStore | None = None,
        backoff: Backoff | None = None,
        on_state: Callable[[State], object] | None = None,
        open_timeout: float = 15.0,
        watchdog_grace_s: float = WATCHDOG_GRACE_S,
    ):
        self.url = url
        self.token = token
        self.get_token = get_token
        self.store = store
        self._pinned = backoff is not None
        self.backoff = backoff or Backoff()
        self.on_state = on_state
        self.open_timeout = open_timeout
        self.watchdog_grace_s = watchdog_grace_s
        self.state: State = "disconnected"
        self.hello: dict | None = None
        self.attempts = 0
        self.closes: list[int | None] = []  # close codes seen, oldest first
        self._subs: dict[str, Subscription] = {}
        self._ws: Any = None
        self._task: asyncio.Task | None = None
        self._wanted = False
        self._refreshed = False
        self._connected = asyncio.Event()
        self._ended = asyncio.Event()
        self._fatal: Exception | None = None
        self._ready_count = 0  # connections that reached "connected"

    # --- lifecycle ----------------------------------------------------------------
    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Start (if needed) and wait until connected; AuthError on a refused token."""
        before = self._ready_count
        if self.state == "connected":
            return
        if self._task is None or self._task.done():
            self._wanted = True
            self._ended.clear()
            self._fatal = None
            self._task = asyncio.create_task(self._run())
        connected = asyncio.ensure_future(self._connected.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({connected, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
            ended.cancel()
        if self._ready_count == before:  # (it may have dropped again already: that is fine)
            raise self._fatal or ConnectionError("client closed")

    async def close(self) -> None:
        """Close for good: state "closed", no reconnect; iterations end."""
        self._wanted = False
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._finish()

    def _finish(self) -> None:
        self._connected.clear()
        self._set_state("closed")
        for sub in self._subs.values():
            sub._queue.put_nowait(None)
        self._ended.set()

    def _set_state(self, state: State) -> None:
        if state == self.state:
            return
        self.state = state
        if state != "connected":
            self._connected.clear()
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # an app callback must not break the client
                log.exception("on_state callback failed")

    # --- subscriptions ------------------------------------------------------------
    async def subscribe(
        self,
        topic: str,
        since: int | None = None,
        *,
        epoch: str | None = None,
        on_gap: Callable[[Gap], object] | None = None,
        timeout: float = 10.0,
    ) -> Subscription:
        """Follow a topic; `since` resumes after that seq (else the store's position, else
        live). Waits for the server's answer when connected (SubscribeError if refused)."""
        position = Position(since, epoch) if _is_seq(since) else None
        subs = await self.subscribe_many([topic], on_gap=on_gap, timeout=timeout, at=position)
        return subs[0]

    async def subscribe_many(
        self,
        topics: list[str],
        *,
        on_gap: Callable[[Gap], object] | None = None,
        timeout: float = 10.0,
        at: Position | None = None,
    ) -> list[Subscription]:
        """Several topics in one subscribe frame (each resumed from the store's position,
        if any); one Subscription each, in order."""
        if not topics or not all(isinstance(t, str) and t for t in topics):
            raise TypeError("topics must be non-empty strings")
        subs = []
        for topic in topics:
            old = self._subs.get(topic)
            if old is not None:
                old.active = False
            sub = Subscription(self, topic, on_gap)
            saved = at if at is not None else (self.store.get(topic) if self.store else None)
            if saved is not None:
                sub._seq, sub._epoch = saved
            self._subs[topic] = sub
            subs.append(sub)
        if self.state == "connected" and self._ws is not None:
            loop = asyncio.get_running_loop()
            for sub in subs:
                sub._confirmed = loop.create_future()
            await self._send_subscribe(subs)
            waiting = asyncio.gather(*(asyncio.shield(s._confirmed) for s in subs))
            with contextlib.suppress(TimeoutError, SubscribeError):  # looked at below
                async with asyncio.timeout(timeout):
                    await waiting
            for sub in subs:  # a refusal is raised; no answer yet: confirmed on a reconnect
                if sub._confirmed.done() and sub._confirmed.exception() is not None:
                    raise sub._confirmed.exception()
        return subs

    async def _drop(self, sub: Subscription) -> None:
        if self._subs.get(sub.topic) is sub:
            del self._subs[sub.topic]
            sub._queue.put_nowait(None)
            await self._send({"op": "unsubscribe", "topics": [sub.topic]})
            if self.store is not None:
                self.store.delete(sub.topic)

    async def _send_subscribe(self, subs: list[Subscription]) -> None:
        subs = [s for s in subs if s.active and self._subs.get(s.topic) is s]
        if not subs:
            return
        frame: dict[str, Any] = {"op": "subscribe", "topics": [s.topic for s in subs]}
        since = {s.topic: s._seq for s in subs if _is_seq(s._seq)}
        epochs = {s.topic: s._epoch for s in subs if _is_seq(s._seq) and s._epoch}
        if since:
            frame["since"] = since
        if epochs:
            frame["epoch"] = epochs
        for s in subs:
            s._awaiting = True
        await self._send(frame)

    async def _send(self, frame: dict | str) -> None:
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def _persist(self, sub: Subscription) -> None:
        if self.store is not None and _is_seq(sub._seq):
            try:
                self.store.set(sub.topic, sub.position)
            except Exception:
                log.exception("position store failed")

    # --- the connection loop --------------------------------------------------------
    def _socket_url(self) -> str:
        if not self.token:
            return self.url
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}token={quote(self.token, safe='')}"

    async def _run(self) -> None:
        try:
            while self._wanted:
                code, reason = await self._one_connection()
                self.closes.append(code)
                if not self._wanted:
                    break
                delay = await self._next_delay(code, reason)
                if delay is None:
                    break
                self._set_state("disconnected")
                await asyncio.sleep(delay / 1000)
        finally:
            self._finish()

    async def _one_connection(self) -> tuple[int | None, str]:
        self._set_state("connecting")
        self.attempts += 1
        self.hello = None
        try:
            async with websockets.connect(
                self._socket_url(),
                open_timeout=self.open_timeout,
                ping_interval=None,  # the gateway pings in JSON; we answer those
                max_size=4 * 2**20,
                close_timeout=2,
            ) as ws:
                self._ws = ws
                try:
                    await self._session(ws)
                except websockets.ConnectionClosed as exc:
                    return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")
                except TimeoutError:
                    return 4408, "watchdog: no frame from the server"
        except websockets.ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            log.debug("gateway connect failed: %r", exc)
            return 1006, ""
        finally:
            self._ws = None
            for sub in self._subs.values():
                sub._awaiting = False
        return 1000, ""

    async def _next_delay(self, code: int | None, reason: str) -> float | None:
        action = close_action(code)
        if action == "stop":
            if code == 4401 and self.get_token is not None and not self._refreshed:
                self._refreshed = True  # once: a fresh token refused too is not retried
                try:
                    token = self.get_token()
                    if asyncio.iscoroutine(token) or isinstance(token, asyncio.Future):
                        token = await token
                except Exception:
                    log.exception("get_token failed")
                    token = None
                if isinstance(token, str) and token:
                    self.token = token
                    return 0.0
            self._fatal = AuthError(code)
            self._wanted = False
            return None
        if action == "slow":
            return self.backoff.longest()
        if action == "restart" and self.hello is not None:
            # Up, then told the server restarts: nobody's failure, come back inside the
            # hint. Refused with 1012 before any hello (the old process still draining):
            # an ordinary failed attempt, backed off, or we would loop on it.
            self.backoff.reset()
            hint = restart_hint(reason)
            return self.backoff.within(*hint) if hint else self.backoff.next()
        if action == "restart":
            hint = restart_hint(reason)
            return max(self.backoff.next(), self.backoff.within(*hint) if hint else 0.0)
        return self.backoff.next()

    def _watchdog_s(self) -> float:
        hb = self.hello.get("heartbeat_s") if self.hello else None
        if isinstance(hb, int | float) and not isinstance(hb, bool) and hb > 0:
            return min(float(hb), 600.0) + self.watchdog_grace_s
        return self.open_timeout if self.hello is None else 25 + self.watchdog_grace_s

    async def _session(self, ws) -> None:
        loop = asyncio.get_running_loop()
        hello_deadline = loop.time() + HELLO_WAIT_S
        while True:
            wait = self._watchdog_s()
            if self.state != "connected":
                wait = max(0.01, min(wait, hello_deadline - loop.time()))
            try:
                async with asyncio.timeout(wait):
                    raw = await ws.recv()
            except TimeoutError:
                if self.state != "connected" and loop.time() >= hello_deadline:
                    await self._ready()  # an older server that sends no hello
                    continue
                raise
            try:
                await self._frame(raw)
            except websockets.ConnectionClosed:
                raise
            except Exception:  # a malformed frame must not end the session
                log.debug("frame ignored", exc_info=True)

    async def _ready(self) -> None:
        if self.state == "connected":
            return
        self._set_state("connected")
        self._ready_count += 1
        self._connected.set()
        await self._send_subscribe(list(self._subs.values()))

    # --- frames ---------------------------------------------------------------------
    async def _frame(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("op"), str):
            return
        op = frame["op"]
        if op == "ping":
            await self._send('{"op":"pong"}')
        elif op == "hello":
            if self.hello is None:
                self.hello = frame
                if not self._pinned:
                    self.backoff.hint(frame.get("reconnect"))
                self.backoff.reset()
                self._refreshed = False
                await self._ready()
        elif op == "message":
            self._message(frame)
        elif op == "batch":
            items = frame.get("messages")
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and item.get("op") == "message":
                    self._message(item)
        elif op == "subscribed":
            self._subscribed(frame)
        elif op == "error":
            self._error(frame)

    def _message(self, m: dict) -> None:
        topic, seq = m.get("topic"), m.get("seq")
        sub = self._subs.get(topic) if isinstance(topic, str) else None
        if sub is None or not _is_seq(seq):
            return
        if sub._seq is not None:
            if seq <= sub._seq:
                return  # already delivered: the replay seam, a relay
            if seq > sub._seq + 1:
                self._gap(sub, Gap(topic, "hole", sub._seq, seq - 1, sub._epoch))
        sub._seq = seq
        ts = m.get("ts")
        ts = float(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) else None
        sub._queue.put_nowait(Message(topic, seq, m.get("data"), ts, seq <= sub._replay_until))
        self._persist(sub)

    def _subscribed(self, frame: dict) -> None:
        topics = frame.get("topics")
        positions = frame.get("positions")
        positions = positions if isinstance(positions, dict) else {}
        for topic in topics if isinstance(topics, list) else ():
            sub = self._subs.get(topic) if isinstance(topic, str) else None
            if sub is None or not sub._awaiting:
                continue
            sub._awaiting = False
            if sub._confirmed is not None and not sub._confirmed.done():
                sub._confirmed.set_result(True)
            pos = positions.get(topic)
            if not isinstance(pos, dict) or not _is_seq(pos.get("seq")):
                continue
            epoch = pos.get("epoch") if isinstance(pos.get("epoch"), str) else None
            if pos.get("recovered") is False:
                self._gap(sub, Gap(topic, "not_recovered", sub._seq, pos["seq"], sub._epoch))
                sub._seq = pos["seq"]
            elif pos.get("recovered") is True:
                sub._replay_until = pos["seq"]
            elif sub._seq is None or pos["seq"] > sub._seq:
                sub._seq = pos["seq"]
            sub._epoch = epoch
            self._persist(sub)

    def _error(self, frame: dict) -> None:
        code = frame.get("code")
        if code == "replay_gap" and isinstance(frame.get("topic"), str):
            sub = self._subs.get(frame["topic"])
            current = frame.get("current")
            if sub is not None and _is_seq(current) and (sub._seq is None or current > sub._seq):
                since = frame.get("since") if _is_seq(frame.get("since")) else None
                oldest = frame.get("oldest") if _is_seq(frame.get("oldest")) else None
                self._gap(sub, Gap(sub.topic, "replay_gap", since, current, sub._epoch, oldest))
                sub._seq = current
                self._persist(sub)
            return
        if code in ("forbidden", "revoked") and isinstance(frame.get("topics"), list):
            for topic in frame["topics"]:
                sub = self._subs.pop(topic, None) if isinstance(topic, str) else None
                if sub is None:
                    continue
                sub.active = False  # not ours (any more): never resubscribed
                if sub._confirmed is not None and not sub._confirmed.done():
                    sub._confirmed.set_exception(SubscribeError(frame))
                sub._queue.put_nowait(None)
            return
        log.info("gateway error frame: %s", frame)

    def _gap(self, sub: Subscription, gap: Gap) -> None:
        sub.gaps.append(gap)
        if sub.on_gap is not None:
            try:
                sub.on_gap(gap)
            except Exception:
                log.exception("on_gap callback failed")


def connect(url: str, token: str = "", **options: Any) -> Client:
    """`async with connect(url, token) as client:` (see Client for the options)."""
    return Client(url, token, **options)
