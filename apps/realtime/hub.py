"""The per-process fan-out hub.

Each Daphne process holds ONE pub/sub connection to Redis (per-topic channels plus a
control channel) and a local map topic -> connections, and writes frames to its own
sockets directly. The hub also runs the heartbeat sweep, renews quota leases, replays
history (subscribe with `since`, gaps, Redis coming back) and writes this process'
stats to the store for the health report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable

import orjson
from channels.db import database_sync_to_async

from apps.realtime import authz, daphne_compat
from apps.realtime.breaker import CLOSED, CircuitBreaker, redis_breaker
from apps.realtime.conf import conf
from apps.realtime.delivery import Delivery, deliveries
from apps.realtime.store import CONTROL, History, get_store
from apps.realtime.tokens import tokens

log = logging.getLogger(__name__)

CLOSE_HEARTBEAT = 4408
# A batch frame holds at most this much (one larger message goes alone): a message's data
# is capped at 256 KiB, and clients commonly refuse frames over 1 MiB.
BATCH_MAX_CHARS = 256 * 1024
_MISSING = object()
# `since` for "only tell me the current seq" (above any real seq; exact as a Lua double).
_CURRENT_ONLY = 2**53


def _frame(**fields) -> str:
    return orjson.dumps(fields).decode()


def error_frame(code: str, message: str, **extra) -> str:
    return _frame(op="error", code=code, message=message, **extra)


def _is_redis_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("redis") or isinstance(
        exc, (ConnectionError, TimeoutError, asyncio.TimeoutError, OSError)
    )


class Connection:
    """One supplier WebSocket as the hub sees it."""

    __slots__ = (
        "send",
        "supplier_id",
        "lease",
        "max_topics",
        "rate",
        "wedding_ids",
        "topics",
        "syncing",
        "outbuf",
        "outbuf_chars",
        "flush_handle",
        "last_seen",
        "next_ping",
        "heartbeat_s",
        "base_heartbeat_s",
        "closed",
        "tokens",
        "refill_at",
        "dropped",
        "wire",
    )

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        supplier_id: int,
        lease: str,
        max_topics: int,
        rate: int,
        wedding_ids: frozenset[int],
        heartbeat_s: float | None = None,
    ):
        self.send = send
        self.supplier_id = supplier_id
        self.lease = lease
        self.max_topics = max_topics
        self.rate = max(1, rate)
        self.wedding_ids = wedding_ids
        # topic -> last seq delivered (None: live from subscription, nothing seen yet)
        self.topics: dict[str, int | None] = {}
        # topic -> live messages held back while history is replayed
        self.syncing: dict[str, list[tuple[int, str]]] = {}
        self.outbuf: list[str] = []
        self.outbuf_chars = 0
        self.flush_handle: asyncio.TimerHandle | None = None
        now = time.monotonic()
        self.last_seen = now
        # The interval promised in the hello frame: subscriptions may tighten it, never
        # loosen it (a client's watchdog is set from the hello).
        self.base_heartbeat_s = heartbeat_s or conf().default_heartbeat_s
        self.heartbeat_s = self.base_heartbeat_s
        self.next_ping = now + self.heartbeat_s
        self.closed = False
        self.tokens = float(self.rate * 2)
        self.refill_at = now
        self.dropped = 0
        # Daphne's protocol for this socket: broadcast frames are written to it directly.
        self.wire = daphne_compat.wire_of(send)

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.send({"type": "websocket.send", "text": text})
        except Exception:  # the socket went away under us; the consumer cleans up
            self.closed = True

    async def close(self, code: int, reason: str | None = None) -> None:
        if not self.closed:
            self.closed = True
            if reason and self.wire is not None:
                with contextlib.suppress(Exception):  # already gone: nothing to close
                    daphne_compat.close_with_reason(self.wire, code, reason)
                return
            message = {"type": "websocket.close", "code": code}
            if reason:
                message["reason"] = reason
            with contextlib.suppress(Exception):  # already gone: nothing to close
                await self.send(message)

    async def write(self, raw: str, window_ms: int) -> None:
        """Send now, or coalesce into the venue's batching window."""
        if window_ms <= 0:
            await self.send_text(raw)
            return
        self._coalesce(raw, window_ms)

    def push(self, out: Outgoing, window_ms: int) -> Awaitable[None] | None:
        """Deliver one broadcast message. Under Daphne the frame (built once for every
        subscriber) is written synchronously; elsewhere an awaitable is returned."""
        if window_ms > 0:
            self._coalesce(out.raw, window_ms)
            return None
        if self.wire is None:
            return self.send_text(out.raw)
        if not self.closed and not daphne_compat.send_prepared(self.wire, out.prepared()):
            self.closed = True  # the socket is going away; the consumer cleans up
        return None

    def _coalesce(self, raw: str, window_ms: int) -> None:
        if self.outbuf and self.outbuf_chars + len(raw) > BATCH_MAX_CHARS:
            # Large messages piling up in one window: send what is held now, so no batch
            # frame outgrows what clients accept (1 MiB is websocket libraries' default).
            items, self.outbuf, self.outbuf_chars = self.outbuf, [], 0
            asyncio.ensure_future(self._send_batch(items))
        self.outbuf.append(raw)
        self.outbuf_chars += len(raw)
        if self.flush_handle is None:
            loop = asyncio.get_running_loop()
            self.flush_handle = loop.call_later(window_ms / 1000, self.flush)

    def flush(self) -> None:
        """The window closed: take what is held now (synchronously, so a batch sent early
        for size can never be overtaken by later messages) and send it."""
        self.flush_handle = None
        items, self.outbuf, self.outbuf_chars = self.outbuf, [], 0
        if items:
            asyncio.ensure_future(self._send_batch(items))

    async def _send_batch(self, items: list[str]) -> None:
        if len(items) == 1:
            await self.send_text(items[0])
        elif items:
            await self.send_text('{"op":"batch","messages":[' + ",".join(items) + "]}")

    def take_token(self) -> bool:
        """Per-connection frame rate limit (token bucket, burst of two seconds)."""
        now = time.monotonic()
        self.tokens = min(self.rate * 2.0, self.tokens + (now - self.refill_at) * self.rate)
        self.refill_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.dropped = 0
            return True
        self.dropped += 1
        return False


class Outgoing:
    """One published message as every subscriber receives it: framed once, lazily."""

    __slots__ = ("raw", "_prepared")

    def __init__(self, raw: str):
        self.raw = raw
        self._prepared = None

    def prepared(self) -> object:
        if self._prepared is None:
            self._prepared = daphne_compat.prepare(self.raw)
        return self._prepared


class HubStats:
    def __init__(self):
        self.msgs_in = 0
        self.deliveries = 0
        self.quota_rejections = 0
        self.replays = 0
        self.replayed_messages = 0
        self.replay_gaps = 0
        self.dead_closed = 0
        # Error frames answering a client's mistake (bad JSON, forbidden topic...), by code.
        self.errors: Counter[str] = Counter()
        # The gateway's own failures: messages a client lost (replay gaps), failed dispatches.
        self.server_errors = 0
        self.latency_ms: deque[float] = deque(maxlen=2048)
        self._last = (time.monotonic(), 0, 0, 0, 0)
        self.exported_deliveries = 0

    def rates(self) -> tuple[float, float, float, float]:
        """Messages in, deliveries out, client error frames and server errors per second
        since the last call."""
        now = time.monotonic()
        then, msgs, outs, errs, server = self._last
        span = max(1e-3, now - then)
        err_total = sum(self.errors.values())
        self._last = (now, self.msgs_in, self.deliveries, err_total, self.server_errors)
        return (
            (self.msgs_in - msgs) / span,
            (self.deliveries - outs) / span,
            (err_total - errs) / span,
            (self.server_errors - server) / span,
        )


class Hub:
    def __init__(self, store=None, breaker: CircuitBreaker | None = None):
        self.store = store or get_store()
        self.breaker = breaker or redis_breaker
        self.cfg = conf()
        self.proc_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.subs: dict[str, set[Connection]] = {}
        self.conns: set[Connection] = set()
        self.profiles: dict[str, Delivery] = {}
        self.pending: dict[str, set[Connection]] = {}
        # topic -> the newest seq this process knows was published (from its channel and
        # from history reads). After an outage, a connection that subscribed live and had
        # nothing yet is owed everything after it: its catch-up starts there.
        self.seen: dict[str, int] = {}
        self.listener = None
        self.connected = asyncio.Event()
        self.stats = HubStats()
        self._seq = 0
        self._tasks: set[asyncio.Task] = set()
        self._started = False
        self.epoch: str | None = None  # the store's (dataset's) epoch, told in hello
        self.draining = False  # SIGTERM: closing every connection (apps.realtime.shutdown)
        # Leases of closed connections, released together (see _release_later).
        self._releases: list[tuple[int, str]] = []
        self._release_task: asyncio.Task | None = None

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        if not self._started:
            self._started = True
            self._spawn(self._read_loop())
            self._spawn(self._sweep_loop())

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def new_lease_id(self) -> str:
        self._seq += 1
        return f"{self.proc_id}:{self._seq}"

    # --- connections -------------------------------------------------------------
    async def admit(self, supplier_id: int, limit: int) -> tuple[str, str | None]:
        """('ok'|'over_quota'|'unavailable', lease id)."""
        if self.breaker.is_open:
            return "unavailable", None
        lease = self.new_lease_id()
        try:
            ok = await self.store.acquire_lease(supplier_id, lease, limit)
        except Exception as exc:
            if not _is_redis_error(exc):
                raise
            log.warning("gateway: quota lease not acquired (%r)", exc)
            self.breaker.failure()
            return "unavailable", None
        self.breaker.success()
        if self.epoch is None:
            await self.refresh_epoch()
        if not ok:
            self.stats.quota_rejections += 1
            from apps.core.metrics import gateway_quota_rejections

            gateway_quota_rejections.inc()
            return "over_quota", None
        return "ok", lease

    def hello(self, greeting: Delivery | None) -> str:
        """The first frame of every connection: how often the server pings (the client's
        watchdog), how to back off when reconnecting, both shaped by the venue profile
        that governs the connection, and the epoch of the history it serves."""
        cfg = self.cfg
        heartbeat = greeting.heartbeat_s if greeting else cfg.default_heartbeat_s
        min_ms = greeting.reconnect_backoff_ms if greeting else cfg.reconnect_min_ms
        return _frame(
            op="hello",
            heartbeat_s=heartbeat,
            reconnect={"min_ms": min_ms, "max_ms": max(min_ms, cfg.reconnect_max_ms)},
            epoch=self.epoch or "",
            server=self.proc_id.rsplit("-", 1)[-1],
        )

    async def refresh_epoch(self) -> None:
        if self.epoch is not None and not self.breaker.allow():
            return
        try:
            self.epoch = await self.store.epoch()
        except Exception as exc:  # told as before; refreshed on the next sweep
            if not _is_redis_error(exc):
                raise

    def add(self, conn: Connection) -> None:
        from apps.core.metrics import gateway_connections

        self.conns.add(conn)
        gateway_connections.inc()

    async def remove(self, conn: Connection) -> None:
        from apps.core.metrics import gateway_connections

        if conn not in self.conns:
            return
        self.conns.discard(conn)
        conn.closed = True
        if conn.flush_handle is not None:
            conn.flush_handle.cancel()
        gateway_connections.dec()
        await self.unsubscribe(conn, list(conn.topics))
        self._release_later(conn.supplier_id, conn.lease)

    def _release_later(self, supplier_id: int, lease: str) -> None:
        """Release a closed connection's lease with the others closing around it.

        A burst of disconnects (a venue's network dropping, a load balancer restart, the
        end of a 10,000-socket benchmark) used to be as many Redis round trips at once:
        they queued on the hub's pool, timed out, and the timeouts opened the breaker,
        refusing every new connection (1013). One pipeline per loop turn instead; each
        lease still goes within a round trip of its close."""
        self._releases.append((supplier_id, lease))
        if self._release_task is None or self._release_task.done():
            self._release_task = self._spawn(self._flush_releases())

    async def _flush_releases(self) -> None:
        while self._releases:
            batch, self._releases = self._releases, []
            by_supplier: dict[int, list[str]] = {}
            for supplier_id, lease in batch:
                by_supplier.setdefault(supplier_id, []).append(lease)
            try:
                await self.store.release_leases(by_supplier)
            except Exception as exc:  # the leases expire on their own within the TTL
                if not _is_redis_error(exc):
                    raise
                log.warning("gateway: %d quota leases not released (%r)", len(batch), exc)
                self.breaker.failure()

    # --- subscriptions -----------------------------------------------------------
    async def subscribe(
        self,
        conn: Connection,
        topics: list[str],
        since: dict[str, int],
        epochs: dict[str, str] | None = None,
    ) -> None:
        """Subscribe, answer `subscribed` with where each topic stands ({seq, epoch}) and,
        for topics resumed with `since`, whether the client's position was recovered;
        then replay what it missed. `epochs`: the epoch each `since` was counted in."""
        await self._load_profiles(topics)
        new_channels = []
        for topic in topics:
            members = self.subs.get(topic)
            if members is None:
                members = self.subs[topic] = set()
                new_channels.append(topic)
            members.add(conn)
            if topic in since:
                conn.topics[topic] = since[topic]
                conn.syncing.setdefault(topic, [])
            elif topic not in conn.topics:
                conn.topics[topic] = None
        self._retune(conn)
        if new_channels and self.listener is None and not self.breaker.is_open:
            # The reader is (re)connecting and will subscribe this channel too: wait for
            # it, so "subscribed" is not sent before the channel can deliver.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.connected.wait(), self.cfg.redis_timeout_s * 3)
        histories: dict[str, History] | None = None
        try:
            if new_channels and self.listener is not None:
                await self.listener.subscribe(new_channels)
            if not self.breaker.allow():
                raise ConnectionError("Redis breaker open")
            # Where each topic stands now that its channel is confirmed (the position of
            # live subscribers if the channel is later lost, see _hold_for_catch_up), and
            # the history owed to resumed ones: one round trip.
            histories = await self._read_histories({t: since.get(t, _CURRENT_ONLY) for t in topics})
            for topic, history in histories.items():
                self._saw(topic, history.current)
        except Exception as exc:
            if not _is_redis_error(exc):
                raise
            # The reader reconnects and resubscribes everything in self.subs; the replay
            # below retries until Redis answers (positions are then not known here).
            self.breaker.failure()
            histories = None
        reply: dict = {"op": "subscribed", "topics": topics}
        lost: set[str] = set()
        if histories is not None:
            reply["positions"] = {
                t: {"seq": max(0, h.current), "epoch": h.epoch} for t, h in histories.items()
            }
            if since:
                lost = {
                    t
                    for t in since
                    if (epochs or {}).get(t, histories[t].epoch) != histories[t].epoch
                    or histories[t].gap_after(since[t])
                    or since[t] > histories[t].current  # counted elsewhere: not this history
                }
                reply["recovered"] = not lost
                for t in since:
                    reply["positions"][t]["recovered"] = t not in lost
        await conn.send_text(orjson.dumps(reply).decode())
        if not since:
            return
        if histories is None:
            await self._resync({t: [conn] for t in topics if t in since})
            return
        for topic in since:
            history = histories[topic]
            if (epochs or {}).get(topic, history.epoch) != history.epoch:
                # Counted in a history that is gone (Redis flushed or replaced): nothing
                # can be replayed from it. The client was told (recovered: false) and
                # refetches; it continues live from the topic's current seq.
                history = History(history.current, [], history.epoch)
                conn.topics[topic] = None
            window = self.profiles[topic].batch_window_ms if topic in self.profiles else 0
            await self._replay_one(conn, topic, history, window)

    async def unsubscribe(self, conn: Connection, topics: list[str]) -> list[str]:
        gone = []
        for topic in topics:
            conn.topics.pop(topic, None)
            conn.syncing.pop(topic, None)
            members = self.subs.get(topic)
            if members is not None:
                members.discard(conn)
                if not members:
                    del self.subs[topic]
                    self.profiles.pop(topic, None)
                    self.seen.pop(topic, None)
                    gone.append(topic)
            pending = self.pending.get(topic)
            if pending:
                pending.discard(conn)
        if gone and self.listener is not None:
            try:
                await self.listener.unsubscribe(gone)
            except Exception as exc:
                if not _is_redis_error(exc):
                    raise
                self.breaker.failure()
        self._retune(conn)
        return topics

    def _retune(self, conn: Connection) -> None:
        """A connection pings at the tightest heartbeat among its topics."""
        beats = [self.profiles[t].heartbeat_s for t in conn.topics if t in self.profiles]
        heartbeat = min([*beats, conn.base_heartbeat_s])
        if heartbeat != conn.heartbeat_s:
            conn.heartbeat_s = heartbeat
            conn.next_ping = min(conn.next_ping, time.monotonic() + heartbeat)

    async def _load_profiles(self, topics: list[str]) -> None:
        missing = [t for t in topics if t not in self.profiles]
        if missing:
            found = await database_sync_to_async(lambda: {t: deliveries.get(t) for t in missing})()
            self.profiles.update(found)

    # --- delivery ------------------------------------------------------------------
    async def dispatch(self, topic: str, raw: str) -> None:
        members = self.subs.get(topic)
        if not members:
            return
        message = orjson.loads(raw)
        seq = message["seq"]
        self._saw(topic, seq)
        profile = self.profiles.get(topic)
        window = profile.batch_window_ms if profile else 0
        self.stats.msgs_in += 1
        out = Outgoing(raw)
        # No await per subscriber under Daphne: each write is a synchronous hand-off of
        # the same framed bytes to the socket's transport.
        for conn in tuple(members):
            pending = self.offer(conn, topic, seq, out, window)
            if pending is not None:
                await pending
        latency = (time.time() - message["ts"]) * 1000
        self.stats.latency_ms.append(latency)
        from apps.core.metrics import gateway_delivery_latency

        gateway_delivery_latency.observe(latency / 1000)

    def offer(
        self, conn: Connection, topic: str, seq: int, out: Outgoing, window: int
    ) -> Awaitable[None] | None:
        held = conn.syncing.get(topic)
        if held is not None:
            held.append((seq, out.raw))
            return None
        last = conn.topics.get(topic, _MISSING)
        if last is _MISSING:
            return None
        if last is not None:
            if seq <= last:
                return None  # already delivered (replay seam, relay after a reconnect)
            if seq > last + 1:
                # Pub/sub lost something (a reconnect): hold this and replay the hole.
                conn.syncing[topic] = [(seq, out.raw)]
                self._spawn(self._resync({topic: [conn]}))
                return None
        conn.topics[topic] = seq
        self.stats.deliveries += 1
        return conn.push(out, window)

    def _saw(self, topic: str, seq: int) -> None:
        if topic in self.subs and seq > self.seen.get(topic, -1):
            self.seen[topic] = seq

    async def _read_histories(self, since: dict[str, int]) -> dict[str, History]:
        """store.histories, seeding counters Redis lost from PostgreSQL's record.

        After Redis restarts empty, a topic's counter is gone until its next publish. Read
        as 0, it made every connection's position look forged ("ahead of the topic"), so
        positions were reset to 0 and the next message (numbered on from PostgreSQL) looked
        like a gap since 0: a bogus `replay_gap` and the outbox's messages dropped. The
        counter is seeded from the same floor publishers use, so numbering agrees."""
        out = await self.store.histories(since)
        lost = [t for t, h in out.items() if h.current < 0]
        if lost:
            from apps.realtime.publish import seq_floors

            floors = await database_sync_to_async(seq_floors)(lost)
            out.update(await self.store.histories({t: since[t] for t in lost}, floors))
        return out

    async def _resync(self, targets: dict[str, list[Connection]]) -> None:
        """Replay history after each connection's last seq, then release what was held.
        One round trip for every topic involved."""
        since: dict[str, int] = {}
        for topic, conns in targets.items():
            lasts = [conn.topics.get(topic) for conn in conns]
            lasts = [x for x in lasts if isinstance(x, int)]
            if lasts:
                since[topic] = min(lasts)
        if not since:
            return
        if not self.breaker.allow():
            for topic, conns in targets.items():
                self.pending.setdefault(topic, set()).update(conns)
            self._spawn(self._retry_resync(targets))
            return
        try:
            histories = await self._read_histories(since)
            self.breaker.success()
        except Exception as exc:
            if not _is_redis_error(exc):
                raise
            self.breaker.failure()
            for topic, conns in targets.items():
                # Keep holding; replayed by the retry below or when the reader reconnects.
                self.pending.setdefault(topic, set()).update(conns)
            self._spawn(self._retry_resync(targets))
            return
        for topic, history in histories.items():
            self._saw(topic, history.current)
            window = self.profiles[topic].batch_window_ms if topic in self.profiles else 0
            for conn in targets[topic]:
                await self._replay_one(conn, topic, history, window)

    async def _retry_resync(self, targets: dict[str, list[Connection]]) -> None:
        await asyncio.sleep(0.5)
        still = {
            topic: [c for c in conns if topic in c.syncing and c in self.pending.get(topic, ())]
            for topic, conns in targets.items()
        }
        still = {t: cs for t, cs in still.items() if cs}
        if still:
            await self._resync(still)

    async def _replay_one(self, conn: Connection, topic: str, history: History, window: int):
        last = conn.topics.get(topic, _MISSING)
        if last is _MISSING or conn.closed:
            return
        pending = self.pending.get(topic)
        if pending:
            pending.discard(conn)
        if last is None or last > history.current:
            # Live from now; or a `since` ahead of the topic (a stale or forged number):
            # the server's count wins, or every later message would look like a duplicate.
            last = history.current
        elif history.gap_after(last):
            self.stats.replay_gaps += 1
            self.stats.server_errors += 1
            await conn.send_text(
                error_frame(
                    "replay_gap",
                    f"Messages {last + 1}..{history.oldest - 1} of {topic} are no longer "
                    "held; refetch the current state, then continue from the next message.",
                    topic=topic,
                    since=last,
                    oldest=history.oldest,
                    current=history.current,
                )
            )
            last = history.current
        else:
            replayed = 0
            for entry in history.entries:
                seq = orjson.loads(entry)["seq"]
                if seq > last:
                    await conn.write(entry, window)
                    last = seq
                    replayed += 1
            if replayed:
                self.stats.replays += 1
                self.stats.replayed_messages += replayed
                self.stats.deliveries += replayed
        conn.topics[topic] = last
        held = conn.syncing.pop(topic, [])
        for seq, raw in held:
            if seq > last:
                await conn.write(raw, window)
                self.stats.deliveries += 1
                last = seq
        conn.topics[topic] = last

    def _hold_for_catch_up(self) -> dict[str, list[Connection]]:
        """After Redis came back: hold live messages for every connection with a known
        position, until _catch_up has replayed what it missed. Synchronous on purpose: it
        runs before the reader dispatches anything from the new subscription, or a live
        message could be delivered past the hole."""
        targets: dict[str, list[Connection]] = {}
        for topic, members in self.subs.items():
            stuck = self.pending.get(topic, set())
            known = self.seen.get(topic)
            if known is not None:
                # Live subscribers that had nothing yet: owed whatever came after the last
                # seq this process saw before it lost the channel.
                for c in members:
                    if c.topics.get(topic, _MISSING) is None:
                        c.topics[topic] = known
            chosen = [
                c
                for c in members
                if isinstance(c.topics.get(topic), int) and (topic not in c.syncing or c in stuck)
            ]
            for c in chosen:
                c.syncing.setdefault(topic, [])
            if chosen:
                targets[topic] = chosen
        return targets

    async def _catch_up(self, targets: dict[str, list[Connection]]) -> None:
        for chunk in _chunks(list(targets.items()), 200):
            await self._resync(dict(chunk))

    # --- control messages ------------------------------------------------------------
    async def _control(self, raw: str) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        kind = message.get("type")
        if kind in ("assignments", "suppliers"):
            ids = message.get("supplier_ids") or []
            # A revoked token, a changed quota or changed weddings: the next handshake
            # must read the supplier afresh.
            tokens.forget_suppliers(None if ids == "all" else set(ids))
        if kind == "assignments":
            await self._recheck({c.supplier_id for c in self.conns} if ids == "all" else set(ids))
        elif kind == "profiles":
            deliveries.forget()
            self.profiles.clear()
            await self._load_profiles(list(self.subs))
            for conn in self.conns:
                self._retune(conn)

    async def _recheck(self, supplier_ids: set[int]) -> None:
        """Assignments changed: drop subscriptions a supplier may no longer hold."""
        affected = [c for c in self.conns if c.supplier_id in supplier_ids]
        fresh: dict[int, frozenset[int] | None] = {}
        for supplier_id in {c.supplier_id for c in affected}:
            fresh[supplier_id] = await database_sync_to_async(authz.active_wedding_ids)(supplier_id)
        for conn in affected:
            if fresh[conn.supplier_id] is None:  # deactivated: its token no longer counts
                await conn.close(4401)
                continue
            conn.wedding_ids = fresh[conn.supplier_id]
            revoked = [
                t
                for t in conn.topics
                if not authz.may_subscribe(conn.supplier_id, conn.wedding_ids, t)
            ]
            if revoked:
                await self.unsubscribe(conn, revoked)
                await conn.send_text(
                    error_frame(
                        "revoked",
                        "No longer assigned to these weddings; unsubscribed.",
                        topics=revoked,
                    )
                )

    # --- loops --------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        backoff = 0.05
        first = True
        while True:
            if self.listener is None:
                if not self.breaker.allow():
                    await asyncio.sleep(0.1)
                    continue
                listener = self.store.listener()
                try:
                    # A callable: topics subscribed while this connects are included.
                    await listener.connect(lambda: list(self.subs))
                except Exception as exc:
                    await listener.close()
                    if not _is_redis_error(exc):
                        log.exception("gateway listener failed to start")
                    self.breaker.failure()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 0.5)
                    continue
                self.listener = listener
                self.connected.set()
                self.breaker.success()
                backoff = 0.05
                if not first:
                    log.info("gateway: Redis pub/sub back; catching up %d topics", len(self.subs))
                    self._spawn(self._catch_up(self._hold_for_catch_up()))
                    self._spawn(self._relay_outbox())
                first = False
            try:
                topic, raw = await self.listener.next()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("gateway: Redis pub/sub lost (%s)", exc)
                self.connected.clear()
                await self.listener.close()
                self.listener = None
                self.breaker.failure()
                continue
            try:
                if topic == CONTROL:
                    await self._control(raw)
                else:
                    await self.dispatch(topic, raw)
            except Exception:  # a bad message must not stop the reader
                self.stats.server_errors += 1
                log.exception("gateway: dispatch failed for %s", topic)

    async def _sweep_loop(self) -> None:
        cfg = self.cfg
        renew_every = cfg.lease_ttl_s / 3
        next_renew = time.monotonic() + renew_every
        next_stats = 0.0
        next_profiles = time.monotonic() + cfg.profile_ttl_s
        while True:
            await asyncio.sleep(0.5)
            try:
                now = time.monotonic()
                await self._heartbeats(now)
                if now >= next_renew:
                    next_renew = now + renew_every
                    await self._renew()
                if now >= next_profiles:
                    next_profiles = now + cfg.profile_ttl_s
                    # Wedding-day mode starts and ends on the clock: refresh profiles.
                    self.profiles.clear()
                    await self._load_profiles(list(self.subs))
                    for conn in self.conns:
                        self._retune(conn)
                if now >= next_stats:
                    next_stats = now + cfg.stats_interval_s
                    await self._write_stats()
                    await self.refresh_epoch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gateway sweep failed")

    async def _relay_outbox(self) -> None:
        from apps.realtime.publish import relay

        try:
            await database_sync_to_async(relay)()
        except Exception:
            log.exception("gateway: outbox relay failed")

    async def _heartbeats(self, now: float) -> None:
        ping = '{"op":"ping"}'
        for conn in tuple(self.conns):
            silent = now - conn.last_seen
            if silent > conn.heartbeat_s * self.cfg.dead_factor + self.cfg.dead_grace_s:
                self.stats.dead_closed += 1
                await conn.close(CLOSE_HEARTBEAT)
            elif now >= conn.next_ping:
                conn.next_ping = now + conn.heartbeat_s
                await conn.send_text(ping)

    async def _renew(self) -> None:
        by_supplier: dict[int, list[str]] = {}
        for conn in self.conns:
            by_supplier.setdefault(conn.supplier_id, []).append(conn.lease)
        if not by_supplier or not self.breaker.allow():
            return
        try:
            await self.store.renew_leases(by_supplier)
            self.breaker.success()
        except Exception as exc:
            if not _is_redis_error(exc):
                raise
            self.breaker.failure()

    def snapshot(self) -> dict:
        in_rate, out_rate, err_rate, server_rate = self.stats.rates()
        per_supplier = Counter(c.supplier_id for c in self.conns)
        latencies = list(self.stats.latency_ms)[-500:]
        return {
            "proc": self.proc_id,
            "pid": os.getpid(),
            "ts": time.time(),
            "connections": len(self.conns),
            "per_supplier": {str(k): v for k, v in per_supplier.items()},
            "subscriptions": sum(len(c.topics) for c in self.conns),
            "topics": len(self.subs),
            "messages_in_per_s": round(in_rate, 2),
            "deliveries_per_s": round(out_rate, 2),
            "errors_per_s": round(err_rate, 2),
            "server_errors_per_s": round(server_rate, 2),
            "deliveries_total": self.stats.deliveries,
            "latency_ms": [round(x, 2) for x in latencies],
            "quota_rejections": self.stats.quota_rejections,
            "replays": self.stats.replays,
            "replayed_messages": self.stats.replayed_messages,
            "replay_gaps": self.stats.replay_gaps,
            "dead_closed": self.stats.dead_closed,
            "errors": dict(self.stats.errors),
            "breaker": {self.breaker.name: self.breaker.state},
            "breaker_opened_total": self.breaker.opened_total,
            "pubsub_connected": self.connected.is_set(),
        }

    async def _write_stats(self) -> None:
        self._export_deliveries()
        if self.breaker.state != CLOSED and not self.breaker.allow():
            return
        try:
            await self.store.write_stats(self.proc_id, self.snapshot())
            self.breaker.success()
        except Exception as exc:
            if not _is_redis_error(exc):
                raise
            self.breaker.failure()

    def _export_deliveries(self) -> None:
        """Add the deliveries since the last call to the Prometheus counter (once per stats
        interval: one counter write per delivery would cost the hot path a lock)."""
        from apps.core.metrics import gateway_deliveries

        delta = self.stats.deliveries - self.stats.exported_deliveries
        if delta > 0:
            gateway_deliveries.inc(delta)
            self.stats.exported_deliveries += delta


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


_hub: Hub | None = None


def get_hub() -> Hub:
    """The process' hub, started lazily on the first connection (inside the event loop)."""
    global _hub
    if _hub is None:
        _hub = Hub()
    _hub.start()
    return _hub


def current_hub() -> Hub | None:
    return _hub
