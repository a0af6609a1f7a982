"""Where the gateway's shared state lives: Redis in the full stack, memory in the
embedded default. Both offer the same calls; the hub and publish() use only these.

Redis keys (all under `<REDIS_PREFIX>:rt:`): `seq:<topic>`, `h:<topic>` (history list,
newest first), `ep:<topic>` (the epoch of that history, see lua.HISTORY), `epoch` (the
dataset's epoch, in the gateway's hello), `lease:<supplier>` (ZSET of connection leases
scored by expiry),
`pubs:<unix second>` (publish counter), `procs` + `proc:<id>` (per-process stats).
Pub/sub channels: `m:<topic>` per topic, `ctl` for control messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from django.conf import settings

from apps.realtime import lua
from apps.realtime.conf import conf

CONTROL = "\x00ctl"  # topic name used for control messages on the listener
ASYNC_POOL_SIZE = 32  # the hub's Redis connections (besides its one pub/sub connection)


@dataclass
class History:
    current: int  # -1: Redis lost the topic's counter and no floor was given to seed it
    entries: list[str]  # oldest first; they end at seq `current`, contiguous
    epoch: str = ""  # names this unbroken history; a new one after the history was lost

    @property
    def oldest(self) -> int:
        """The oldest seq still held (current + 1 when nothing is)."""
        return self.current - len(self.entries) + 1

    def gap_after(self, since: int) -> bool:
        """True if messages after `since` have already left the history."""
        return since + 1 < self.oldest and since < self.current


def _ts() -> str:
    return f"{time.time():.6f}"


class RedisStore:
    def __init__(self, url: str, prefix: str):
        import redis
        import redis.asyncio as aredis

        cfg = conf()
        self.url = url
        self.p = prefix
        timeout = cfg.redis_timeout_s
        self.sync = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=0
        )
        self._async_kwargs = dict(socket_timeout=timeout, socket_connect_timeout=timeout)
        self._aredis = aredis
        self._async: object | None = None
        self._publish = self.sync.register_script(lua.PUBLISH)

    # --- keys -----------------------------------------------------------------
    def k_seq(self, topic: str) -> str:
        return f"{self.p}:seq:{topic}"

    def k_hist(self, topic: str) -> str:
        return f"{self.p}:h:{topic}"

    def k_epoch(self, topic: str) -> str:
        return f"{self.p}:ep:{topic}"

    def k_lease(self, supplier_id: int) -> str:
        return f"{self.p}:lease:{supplier_id}"

    def channel(self, topic: str) -> str:
        return f"{self.p}:m:{topic}"

    @property
    def control_channel(self) -> str:
        return f"{self.p}:ctl"

    # --- sync (publish, relay, health) ------------------------------------------
    def publish_many(self, items: list[tuple[str, str, int, int]]) -> list[int]:
        """items: (topic, data_json, history_len, floor). One round trip (pipeline)."""
        second = f"{self.p}:pubs:{int(time.time())}"
        calls = [
            (
                [self.k_seq(topic), self.k_hist(topic), second],
                [topic, data, _ts(), max(1, length), floor, self.channel(topic)],
            )
            for topic, data, length, floor in items
        ]
        if len(calls) == 1:
            return [int(self._publish(keys=calls[0][0], args=calls[0][1]))]
        return [int(x) for x in _sync_evalsha_many(self.sync, self._publish, calls)]

    def publish_control(self, payload: dict) -> None:
        self.sync.publish(self.control_channel, orjson.dumps(payload))

    def publish_rate(self, seconds: int = 5) -> float:
        now = int(time.time())
        keys = [f"{self.p}:pubs:{s}" for s in range(now - seconds, now)]
        return sum(int(v or 0) for v in self.sync.mget(keys)) / seconds

    def read_proc_stats(self) -> list[dict]:
        now = time.time()
        ids = self.sync.zrangebyscore(f"{self.p}:procs", now, "+inf")
        if not ids:
            return []
        raw = self.sync.mget([f"{self.p}:proc:{i.decode()}" for i in ids])
        return [orjson.loads(r) for r in raw if r]

    def topic_state(self, topic: str) -> tuple[int, int]:
        pipe = self.sync.pipeline(transaction=False)
        pipe.get(self.k_seq(topic))
        pipe.llen(self.k_hist(topic))
        seq, length = pipe.execute()
        return int(seq or 0), int(length)

    # --- async (the hub) ------------------------------------------------------
    def aclient(self):
        if self._async is None:
            # A bounded pool callers wait on: a burst of handshakes (each takes a quota
            # lease) used to exceed redis-py's default pool limit with MaxConnectionsError,
            # which counted as Redis failing and opened the breaker (1013 for all).
            pool = self._aredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=ASYNC_POOL_SIZE,
                timeout=conf().redis_timeout_s * 5,
                **self._async_kwargs,
            )
            self._async = self._aredis.Redis(connection_pool=pool)
            self._a_history = self._async.register_script(lua.HISTORY)
            self._a_acquire = self._async.register_script(lua.ACQUIRE)
            self._a_renew = self._async.register_script(lua.RENEW)
        return self._async

    async def acquire_lease(self, supplier_id: int, member: str, limit: int) -> bool:
        self.aclient()
        ttl = int(conf().lease_ttl_s * 1000)
        got = await self._a_acquire(keys=[self.k_lease(supplier_id)], args=[member, limit, ttl])
        return bool(got)

    async def release_leases(self, by_supplier: dict[int, list[str]]) -> None:
        """Drop these leases: one pipelined round trip whatever their number."""
        async with self.aclient().pipeline(transaction=False) as pipe:
            for supplier_id, members in by_supplier.items():
                pipe.zrem(self.k_lease(supplier_id), *members)
            await pipe.execute()

    async def renew_leases(self, by_supplier: dict[int, list[str]]) -> None:
        if not by_supplier:
            return
        self.aclient()
        ttl = int(conf().lease_ttl_s * 1000)
        calls = [([self.k_lease(s)], [ttl, *members]) for s, members in by_supplier.items()]
        await _async_evalsha_many(self._async, self._a_renew, calls)

    async def lease_count(self, supplier_id: int) -> int:
        return await self.aclient().zcard(self.k_lease(supplier_id))

    async def histories(
        self, since: dict[str, int], floors: dict[str, int] | None = None
    ) -> dict[str, History]:
        """Missed messages of several topics in one round trip. A topic whose counter
        Redis lost comes back with current == -1 unless `floors` says where to seed it."""
        self.aclient()
        topics = list(since)
        floors = floors or {}
        fresh = new_epoch()
        calls = [
            ([self.k_seq(t), self.k_hist(t), self.k_epoch(t)], [since[t], floors.get(t, -1), fresh])
            for t in topics
        ]
        results = await _async_evalsha_many(self._async, self._a_history, calls)
        out: dict[str, History] = {}
        for topic, (cur, entries, epoch) in zip(topics, results, strict=True):
            out[topic] = History(int(cur), [e.decode() for e in reversed(entries)], _text(epoch))
        return out

    async def epoch(self) -> str:
        """The dataset's epoch: made on first use, so a flushed or replaced Redis has a
        new one."""
        key = f"{self.p}:epoch"
        client = self.aclient()
        await client.set(key, new_epoch(), nx=True)
        return _text(await client.get(key))

    async def write_stats(self, proc_id: str, payload: dict) -> None:
        ttl = conf().stats_ttl_s
        pipe = self.aclient().pipeline(transaction=False)
        pipe.set(f"{self.p}:proc:{proc_id}", orjson.dumps(payload), px=int(ttl * 1000))
        pipe.zadd(f"{self.p}:procs", {proc_id: time.time() + ttl})
        pipe.zremrangebyscore(f"{self.p}:procs", "-inf", time.time())
        await pipe.execute()

    async def ping(self) -> None:
        await self.aclient().ping()

    def listener(self) -> RedisListener:
        return RedisListener(self)


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _is_noscript(results: list) -> bool:
    from redis.exceptions import NoScriptError

    return any(isinstance(r, NoScriptError) for r in results)


def _raise_first(results: list) -> list:
    for r in results:
        if isinstance(r, Exception):
            raise r
    return results


def _sync_evalsha_many(client, script, calls: list[tuple[list, list]]) -> list:
    """Many calls of one script in one round trip (EVALSHA; loaded again if Redis lost it)."""
    for _ in range(2):
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        results = pipe.execute(raise_on_error=False)
        if not _is_noscript(results):
            return _raise_first(results)
        client.script_load(script.script)
    return _raise_first(results)


async def _async_evalsha_many(client, script, calls: list[tuple[list, list]]) -> list:
    for _ in range(2):
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        results = await pipe.execute(raise_on_error=False)
        if not _is_noscript(results):
            return _raise_first(results)
        await client.script_load(script.script)
    return _raise_first(results)


class RedisListener:
    """The process' one pub/sub connection: per-topic channels plus the control channel."""

    def __init__(self, store: RedisStore):
        self.store = store
        self.pubsub = None
        self._prefix = f"{store.p}:m:".encode()
        self._control = store.control_channel.encode()
        self._pending: dict[bytes, asyncio.Future] = {}
        self._early: deque[dict] = deque()

    async def connect(self, topics: Callable[[], list[str]]) -> None:
        """Subscribe the control channel and every topic `topics()` names, waiting for each
        confirmation; topics that appear meanwhile (subscribers arriving while this
        connects) are subscribed too before it returns, so none is left without a channel.
        Messages that arrive meanwhile are kept for next()."""
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No silent reconnects: redis-py would resubscribe on its own after a blip, and
        # the hub would never learn that messages were missed meanwhile. Every loss must
        # reach the hub, which reconnects and replays (Hub._read_loop).
        client = self.store._aredis.Redis.from_url(
            self.store.url,
            socket_connect_timeout=conf().redis_timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        pubsub = client.pubsub()
        done: set[str] = set()
        batch = [self.store.control_channel]
        while batch:
            await pubsub.subscribe(*batch)
            # Wait for every confirmation so the caller knows nothing published from now
            # is missed.
            wanted = len(batch)
            while wanted:
                msg = await asyncio.wait_for(
                    pubsub.get_message(timeout=None), conf().redis_timeout_s * 5
                )
                if msg and msg["type"] == "subscribe":
                    wanted -= 1
                elif msg and msg["type"] == "message":
                    self._early.append(msg)
            done.update(batch)
            batch = [c for c in map(self.store.channel, topics()) if c not in done]
        self.pubsub = pubsub

    async def subscribe(self, topics: list[str]) -> None:
        """Returns once Redis confirmed every channel (the hub's reader sees the replies)."""
        if not topics or self.pubsub is None:
            return
        loop = asyncio.get_running_loop()
        channels = [self.store.channel(t) for t in topics]
        futures = []
        for channel in channels:
            fut = self._pending.get(channel.encode())
            if fut is None or fut.done():
                fut = loop.create_future()
                self._pending[channel.encode()] = fut
            futures.append(fut)
        await self.pubsub.subscribe(*channels)
        await asyncio.wait_for(asyncio.gather(*futures), conf().redis_timeout_s * 3)

    async def unsubscribe(self, topics: list[str]) -> None:
        if topics and self.pubsub is not None:
            await self.pubsub.unsubscribe(*[self.store.channel(t) for t in topics])

    async def next(self) -> tuple[str, str]:
        while True:
            if self._early:
                msg = self._early.popleft()
            else:
                msg = await self.pubsub.get_message(timeout=None)
            if msg is None:
                continue
            kind = msg["type"]
            channel = msg["channel"]
            if kind == "message":
                if channel == self._control:
                    return CONTROL, msg["data"].decode()
                return channel[len(self._prefix) :].decode(), msg["data"].decode()
            if kind == "subscribe":
                fut = self._pending.pop(channel, None)
                if fut is not None and not fut.done():
                    fut.set_result(True)

    async def close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                await self.pubsub.aclose()
            self.pubsub = None
        for fut in self._pending.values():
            if not fut.done():
                fut.cancel()
        self._pending.clear()


class MemoryStore:
    """The embedded default: one process, same calls, state in memory (lost on restart)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.seq: dict[str, int] = {}
        self.hist: dict[str, deque] = {}
        self.leases: dict[int, dict[str, float]] = defaultdict(dict)
        self.pubs: dict[int, int] = defaultdict(int)
        self.stats: dict[str, tuple[float, dict]] = {}
        self._listeners: list[MemoryListener] = []
        # Memory is one history per process: a restart loses it, and starts a new epoch.
        self._epoch = new_epoch()

    def publish_many(self, items: list[tuple[str, str, int, int]]) -> list[int]:
        out = []
        with self._lock:
            for topic, data, length, floor in items:
                if topic not in self.seq:
                    if floor < 0:
                        out.append(-1)
                        continue
                    self.seq[topic] = floor
                self.seq[topic] += 1
                seq = self.seq[topic]
                raw = f'{{"op":"message","topic":"{topic}","seq":{seq},"ts":{_ts()},"data":{data}}}'
                hist = self.hist.get(topic)
                if hist is None or hist.maxlen != max(1, length):
                    hist = deque(hist or (), maxlen=max(1, length))
                    self.hist[topic] = hist
                hist.appendleft(raw)
                second = int(time.time())
                self.pubs[second] += 1
                self.pubs.pop(second - 120, None)
                for listener in self._listeners:
                    listener.offer(topic, raw)
                out.append(seq)
        return out

    def publish_control(self, payload: dict) -> None:
        with self._lock:
            for listener in self._listeners:
                listener.offer(CONTROL, orjson.dumps(payload).decode())

    def publish_rate(self, seconds: int = 5) -> float:
        now = int(time.time())
        return sum(self.pubs.get(s, 0) for s in range(now - seconds, now)) / seconds

    def read_proc_stats(self) -> list[dict]:
        now = time.time()
        return [payload for expiry, payload in self.stats.values() if expiry > now]

    def topic_state(self, topic: str) -> tuple[int, int]:
        return self.seq.get(topic, 0), len(self.hist.get(topic, ()))

    async def acquire_lease(self, supplier_id: int, member: str, limit: int) -> bool:
        now = time.time()
        with self._lock:
            leases = self.leases[supplier_id]
            for key in [k for k, expiry in leases.items() if expiry <= now]:
                del leases[key]
            if len(leases) >= limit:
                return False
            leases[member] = now + conf().lease_ttl_s
            return True

    async def release_leases(self, by_supplier: dict[int, list[str]]) -> None:
        with self._lock:
            for supplier_id, members in by_supplier.items():
                for member in members:
                    self.leases[supplier_id].pop(member, None)

    async def renew_leases(self, by_supplier: dict[int, list[str]]) -> None:
        expiry = time.time() + conf().lease_ttl_s
        with self._lock:
            for supplier_id, members in by_supplier.items():
                for member in members:
                    self.leases[supplier_id][member] = expiry

    async def lease_count(self, supplier_id: int) -> int:
        now = time.time()
        return sum(1 for e in self.leases[supplier_id].values() if e > now)

    async def histories(
        self, since: dict[str, int], floors: dict[str, int] | None = None
    ) -> dict[str, History]:
        # Memory never loses a counter while the process lives: no floor is needed.
        out = {}
        with self._lock:
            for topic, after in since.items():
                cur = self.seq.get(topic, 0)
                hist = list(self.hist.get(topic) or ())
                need = max(0, cur - after)
                out[topic] = History(cur, list(reversed(hist[:need])), self._epoch)
        return out

    async def epoch(self) -> str:
        return self._epoch

    async def write_stats(self, proc_id: str, payload: dict) -> None:
        self.stats[proc_id] = (time.time() + conf().stats_ttl_s, payload)

    async def ping(self) -> None:
        return None

    def listener(self) -> MemoryListener:
        listener = MemoryListener(self)
        with self._lock:
            self._listeners.append(listener)
        return listener


class MemoryListener:
    def __init__(self, store: MemoryStore):
        self.store = store
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.topics: set[str] = set()

    def offer(self, topic: str, raw: str) -> None:
        # Called under the store lock from any thread (a sync view, a Celery eager task).
        if topic == CONTROL or topic in self.topics:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, (topic, raw))

    async def connect(self, topics: Callable[[], list[str]]) -> None:
        self.topics.update(topics())

    async def subscribe(self, topics: list[str]) -> None:
        with self.store._lock:
            self.topics.update(topics)

    async def unsubscribe(self, topics: list[str]) -> None:
        with self.store._lock:
            self.topics.difference_update(topics)

    async def next(self) -> tuple[str, str]:
        return await self.queue.get()

    async def close(self) -> None:
        return None


_store: RedisStore | MemoryStore | None = None
_store_lock = threading.Lock()


def get_store() -> RedisStore | MemoryStore:
    global _store
    with _store_lock:
        if _store is None:
            if settings.REDIS_URL:
                _store = RedisStore(settings.REDIS_URL, conf().prefix)
            else:
                _store = MemoryStore()
        return _store
