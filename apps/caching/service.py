"""The two-tier cache: an in-process W-TinyLFU (L1) in front of Redis (L2).

    from apps.caching.service import cache
    bundle = cache.get_or_load(f"wedding:{pk}", lambda: load(pk), tags=[f"wedding:{pk}"])

Guarantees, and how:
- A hit in L1 takes no lock: a comparison with the earliest expiry, one dict lookup
  and an append to a read buffer (l1.py). Values are shared, not copied: callers
  must treat what they get as read-only.
- Freshness across processes: every invalidation bumps a generation number in
  Redis, deletes the L2 value and publishes the keys and tags on one pub/sub
  channel, all in one Lua script; a listener thread in each process drops them
  from its L1. A loader only stores its value if no generation it read moved
  meanwhile, so a slow load never re-inserts data older than an invalidation.
  A listener that loses its subscription clears the whole L1 when it is back
  (it may have missed messages).
- Stampede: the first process to miss a key takes a short Redis lock and loads;
  the others serve their stale copy if they have one, else wait for the value.
- Redis trouble never fails a request: short socket timeouts, a circuit breaker,
  and L1 + the loader keep serving. Invalidations that could not be sent are
  retried when Redis is back.
- Dynamic TTL: the base TTL is stretched by the key's estimated frequency, up to a
  cap; keys whose tags name a live wedding are pinned until the wedding ends.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from apps.caching import conf
from apps.caching.codec import ZSTD, Codec, CodecError
from apps.caching.l1 import MISSING, READ_BUFFER, TinyLFUCache
from apps.caching.stats import COUNTERS, TierCounters, summarize

log = logging.getLogger(__name__)

Loader = Callable[[], Any]
PinResolver = Callable[[tuple], "float | None"]

# One round trip on an L1 miss: the value, its remaining TTL, the generations it
# depends on (the key's and each tag's), and the load lock if the value is absent.
_FETCH = """
local v = redis.call('GET', KEYS[1])
local gens = {}
for i = 3, #KEYS do gens[#gens + 1] = redis.call('GET', KEYS[i]) or '0' end
local g = table.concat(gens, ':')
if v then return {1, v, g, redis.call('PTTL', KEYS[1])} end
local locked = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
if locked then return {0, '', g, 1} end
return {0, '', g, 0}
"""

# Store only if no generation moved since the fetch; index the key under its tags.
_STORE = """
local gens = {}
for i = 3, #KEYS do gens[#gens + 1] = redis.call('GET', KEYS[i]) or '0' end
if table.concat(gens, ':') ~= ARGV[1] then
  if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 6, #ARGV do
  redis.call('SADD', ARGV[i], ARGV[5])
  redis.call('PEXPIRE', ARGV[i], tonumber(ARGV[3]) + 60000)
end
if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
return 1
"""

# get_many's version of _FETCH, for several keys in one round trip. ARGV: token, lock
# TTL (ms), then each key's number of tags; KEYS, per key: value, lock, g:key, tg:tag...
# Per key: {1, value, generations, PTTL} when stored, {2, '', generations, 0} when we
# took its load lock, {0, '', generations, 0} when another caller holds it.
_FETCH_MANY = """
local out = {}
local k = 1
for a = 3, #ARGV do
  local ntags = tonumber(ARGV[a])
  local gens = {}
  for i = k + 2, k + 2 + ntags do gens[#gens + 1] = redis.call('GET', KEYS[i]) or '0' end
  local g = table.concat(gens, ':')
  local v = redis.call('GET', KEYS[k])
  if v then
    out[#out + 1] = {1, v, g, redis.call('PTTL', KEYS[k])}
  elseif redis.call('SET', KEYS[k + 1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = {2, '', g, 0}
  else
    out[#out + 1] = {0, '', g, 0}
  end
  k = k + 3 + ntags
end
return out
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# ARGV: prefix, generation TTL (s), origin, number of keys n, n keys, then tags.
_INVALIDATE = """
local prefix = ARGV[1]
local n = tonumber(ARGV[4])
local keys, tags, seen = {}, {}, {}
for i = 5, 4 + n do
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; keys[#keys + 1] = ARGV[i] end
end
for i = 5 + n, #ARGV do
  local tag = ARGV[i]
  tags[#tags + 1] = tag
  local tagkey = prefix .. 'tag:' .. tag
  for _, k in ipairs(redis.call('SMEMBERS', tagkey)) do
    if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
  end
  redis.call('DEL', tagkey)
  redis.call('INCR', prefix .. 'tg:' .. tag)
  redis.call('EXPIRE', prefix .. 'tg:' .. tag, ARGV[2])
end
for _, k in ipairs(keys) do
  redis.call('DEL', prefix .. 'v:' .. k)
  redis.call('INCR', prefix .. 'g:' .. k)
  redis.call('EXPIRE', prefix .. 'g:' .. k, ARGV[2])
end
local msg = {o = ARGV[3], k = keys, t = tags}
if #keys == 0 then msg.k = nil end
if #tags == 0 then msg.t = nil end
redis.call('PUBLISH', prefix .. 'invalidate', cjson.encode(msg))
return #keys
"""


class TwoTierCache:
    """See the module docstring. Build one per process (`cache` below)."""

    def __init__(
        self,
        *,
        redis_url: str = "",
        prefix: str = "wso",
        config: conf.CacheConfig | None = None,
        clock: Callable[[], float] = time.time,
        pin_resolver: PinResolver | None = None,
        listen: bool = True,
    ) -> None:
        self.config = config or conf.load()
        self.clock = clock
        self.pin_resolver = pin_resolver
        self.redis_url = redis_url
        self.ns = f"{prefix}:cache:"
        self.channel = self.ns + "invalidate"
        self.codec = Codec(self.config.compress_threshold, self.config.compress_level)
        self.l1 = TinyLFUCache(self.config.l1_max_bytes)
        self.listen = listen
        self._lock = threading.Lock()
        self._reset_process_state()
        os.register_at_fork(after_in_child=self._reset_process_state)

    # --- process lifecycle ------------------------------------------------------
    def _reset_process_state(self) -> None:
        """Fresh state in a new process: nothing inherited from a forking parent is trusted."""
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # A new lock first: another thread of the parent may have held the old one
        # when it forked, and nothing would ever release it here.
        self.l1.lock = threading.Lock()
        self.l1.clear()
        self._lock = threading.Lock()
        self.tiers = {"l1": TierCounters(), "l2": TierCounters(), "load": TierCounters()}
        self._l1_tier = self.tiers["l1"]
        self._l1_hits_base = self.l1.hits
        self.counters = dict.fromkeys(COUNTERS, 0)
        # Bumped by every invalidation seen here: a load that spans one is not kept in L1.
        self._epoch = 0
        self._inflight: dict[str, threading.Event] = {}
        self._pending_keys: set[str] = set()
        self._pending_tags: set[str] = set()
        self._breaker_failures = 0
        self._breaker_open_until = 0.0
        self._started = False
        self._stop = threading.Event()
        self.subscribed = threading.Event()
        self._first_attempt = threading.Event()
        self._listeners: list[Callable[[list, list], None]] = []
        self._prom_sent: dict = {}
        self._redis = None
        self._scripts: dict = {}
        if self.redis_url:
            import redis

            timeout = self.config.socket_timeout
            self._redis = redis.Redis.from_url(
                self.redis_url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=0,
            )
            for name, source in (
                ("fetch", _FETCH),
                ("fetch_many", _FETCH_MANY),
                ("store", _STORE),
                ("release", _RELEASE),
                ("invalidate", _INVALIDATE),
            ):
                self._scripts[name] = self._redis.register_script(source)

    def start(self, wait: float = 2.0) -> None:
        """Start the background thread (invalidation listener, stats publisher)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            thread = threading.Thread(target=self._background, name="cache-listener", daemon=True)
            thread.start()
        if self._redis is not None and wait:
            self._first_attempt.wait(wait)

    def close(self) -> None:
        self._stop.set()

    # --- reads --------------------------------------------------------------------
    def get_or_load(
        self, key: str, loader: Loader, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> Any:
        """The cached value of `key`, loading (and caching) it with `loader` on a miss.

        Exceptions from `loader` propagate (nothing is cached); the cache's own
        failures never do."""
        # The hot path, the L1's hit path inlined (l1.py's docstring says why each step
        # is safe without a lock): next_expiry is read before `fresh`. A hit is counted
        # by the read buffer; its latency is sampled by `snapshot`, not here.
        l1 = self.l1
        if self.clock() < l1.next_expiry:
            value = l1.fresh.get(key, MISSING)
            if value is not MISSING:
                reads = l1.reads
                reads.append(key)
                if len(reads) >= READ_BUFFER:
                    l1.drain()
                return value
        return self._get_slow(key, loader, ttl, tags)

    def _get_slow(self, key: str, loader: Loader, ttl: float | None, tags: Iterable[str]) -> Any:
        """Not in `fresh`, or some entry's expiry has come: expire what is due, then look
        again (a stale entry is handed to `_miss`, which may serve it)."""
        now = self.clock()
        if now >= self.l1.next_expiry:
            self.l1.expire(now)
        entry = self.l1.get(key)
        if entry is not None and entry.expires > now:
            return entry.value
        return self._miss(key, loader, ttl, tuple(tags), entry)

    def get_many(
        self,
        keys: Iterable[str],
        loader_many: Callable[[list[str]], dict[str, Any]] | None = None,
        ttl: float | None = None,
        tags_for: Callable[[str], Iterable[str]] | None = None,
    ) -> dict[str, Any]:
        """Values of the keys found in L1 or L2; the rest come from `loader_many` (one
        call for the keys this caller loads) and are stored. Keys the loader does not
        return are absent.

        Stampede protection as in `get_or_load`, per key: a key another caller (thread
        or process) is loading is not loaded again; we serve our stale copy of it, or
        wait for its value up to `lock_wait`, then load it ourselves."""
        keys = list(dict.fromkeys(keys))
        if not self._started:
            self.start()
        epoch = self._epoch
        now = self.clock()
        found: dict[str, Any] = {}
        missing: list[str] = []
        stale: dict[str, Any] = {}
        for key in keys:
            entry = self.l1.get(key)
            if entry is not None and entry.expires > now:
                found[key] = entry.value
            else:
                self._count_l1_miss(entry)
                missing.append(key)
                if entry is not None:
                    stale[key] = entry.value
        if not missing:
            return found
        if loader_many is None:  # a read only: no load, so no lock to take
            if self._l2_ready():
                self._read_many_l2(missing, found, epoch)
            return found
        tags_of = {key: tuple(tags_for(key)) if tags_for else () for key in missing}
        if self._l2_ready():
            self._load_many_shared(missing, tags_of, loader_many, ttl, stale, found, epoch)
        else:
            self._load_many_local(missing, tags_of, loader_many, ttl, stale, found, epoch)
        return found

    def _read_many_l2(self, missing: list[str], found: dict[str, Any], epoch: int) -> None:
        started = time.perf_counter_ns()
        try:
            blobs = self._redis.mget([self.ns + "v:" + k for k in missing])
            self._redis_ok()
        except Exception as exc:
            self._redis_failed(exc)
            return
        self.tiers["l2"].observe(time.perf_counter_ns() - started)
        for key, blob in zip(missing, blobs, strict=True):
            decoded = self._decode_l2(key, blob) if blob is not None else _MISSING
            if decoded is _MISSING:
                self.tiers["l2"].misses += 1
            else:
                self.tiers["l2"].hits += 1
                tags, found[key], size = decoded
                self._fill_l1(key, found[key], size, tags, self.config.default_ttl, epoch)

    def _load_many_shared(self, missing, tags_of, loader_many, ttl, stale, found, epoch) -> None:
        """L2 and the load locks in one round trip; load the keys we locked; serve stale
        or wait for the keys others are loading (the same rules as `_miss`)."""
        token = uuid.uuid4().hex
        pending = missing
        first = True
        deadline = None
        delay = 0.005
        while pending:
            replies = self._fetch_many(pending, tags_of, token)
            if replies is None:  # Redis failed: the database still answers
                self._load_batch(pending, {}, tags_of, loader_many, ttl, None, found, epoch)
                return
            mine: dict[str, str] = {}  # key -> generations; we hold its lock
            unlocked: dict[str, str] = {}  # undecodable value: reload over it, no lock
            waiting: dict[str, str] = {}
            for key, (status, blob, gens, pttl) in zip(pending, replies, strict=True):
                gens = gens.decode() if isinstance(gens, bytes) else gens
                if status == 1:
                    decoded = self._decode_l2(key, blob)
                    if decoded is _MISSING:
                        unlocked[key] = gens
                        continue
                    self.tiers["l2"].hits += 1
                    stored_tags, value, size = decoded
                    found[key] = value
                    remaining = max(int(pttl), 1000) / 1000.0
                    self._fill_l1(key, value, size, stored_tags or tags_of[key], remaining, epoch)
                    continue
                if first:
                    self.tiers["l2"].misses += 1
                if status == 2:
                    mine[key] = gens
                elif key in stale:  # someone else is loading it: serve what we had
                    self.counters["stale_served"] += 1
                    found[key] = stale[key]
                else:
                    waiting[key] = gens
            first = False
            if mine:
                self._load_batch(list(mine), mine, tags_of, loader_many, ttl, token, found, epoch)
            if unlocked:
                self._load_batch(
                    list(unlocked), unlocked, tags_of, loader_many, ttl, None, found, epoch
                )
            if not waiting:
                return
            if deadline is None:
                self.counters["lock_waits"] += 1
                deadline = time.monotonic() + self.config.lock_wait
            elif time.monotonic() > deadline:
                # The holders are slow or gone: load without the locks rather than fail.
                self._load_batch(
                    list(waiting), waiting, tags_of, loader_many, ttl, None, found, epoch
                )
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)
            pending = list(waiting)

    def _load_many_local(self, missing, tags_of, loader_many, ttl, stale, found, epoch) -> None:
        """Without Redis: one loader per key in this process, as `_load_single_flight`."""
        with self._lock:
            mine = [key for key in missing if key not in self._inflight]
            theirs = {key: self._inflight[key] for key in missing if key not in mine}
            done = threading.Event()
            for key in mine:
                self._inflight[key] = done
        if mine:
            try:
                self._load_batch(mine, {}, tags_of, loader_many, ttl, None, found, epoch)
            finally:
                with self._lock:
                    for key in mine:
                        if self._inflight.get(key) is done:
                            del self._inflight[key]
                done.set()
        if not theirs:
            return
        deadline = time.monotonic() + self.config.lock_wait
        waited = False
        rest: list[str] = []
        for key, event in theirs.items():
            if key in stale:
                self.counters["stale_served"] += 1
                found[key] = stale[key]
                continue
            if not event.is_set():
                waited = True
                event.wait(max(deadline - time.monotonic(), 0))
            entry = self.l1.peek(key)
            if entry is not None and entry.expires > self.clock():
                found[key] = entry.value
            else:  # the loader did not return it, it was not kept, or it is still loading
                rest.append(key)
        if waited:
            self.counters["lock_waits"] += 1
        if rest:
            self._load_batch(rest, {}, tags_of, loader_many, ttl, None, found, epoch)

    def _fetch_many(self, keys: list[str], tags_of: dict[str, tuple], token: str):
        ns = self.ns
        names: list[str] = []
        counts: list[int] = []
        for key in keys:
            tags = tags_of[key]
            names.extend((ns + "v:" + key, ns + "lock:" + key, ns + "g:" + key))
            names.extend(ns + "tg:" + tag for tag in tags)
            counts.append(len(tags))
        started = time.perf_counter_ns()
        try:
            replies = self._scripts["fetch_many"](
                keys=names, args=[token, int(self.config.lock_ttl * 1000), *counts]
            )
        except Exception as exc:
            self._redis_failed(exc)
            return None
        self._redis_ok()
        self.tiers["l2"].observe(time.perf_counter_ns() - started)
        return replies

    def _load_batch(self, keys, gens_of, tags_of, loader_many, ttl, token, found, epoch) -> None:
        """One `loader_many` call for `keys`; store what it returns (releasing our lock
        through the store), release the locks of the keys it did not return."""
        started = time.perf_counter_ns()
        try:
            loaded = loader_many(list(keys))
        except BaseException:
            self.counters["load_errors"] += 1
            if token is not None:
                for key in keys:
                    self._release(key, token)
            raise
        self._observe_load(started)
        for key in keys:
            if key in loaded:
                found[key] = loaded[key]
                self._store(key, loaded[key], ttl, tags_of[key], gens_of.get(key), token, epoch)
            elif token is not None:
                self._release(key, token)

    def peek(self, key: str) -> Any:
        """The L1 value if present and fresh, else None (no load, no stats)."""
        entry = self.l1.peek(key)
        return entry.value if entry is not None and entry.expires > self.clock() else None

    def held(self, keys: list[str]) -> list[bool]:
        """Whether each key is held: in Redis (one round trip), else in this process's L1
        (no Redis configured, or Redis unreachable)."""
        if keys and self._l2_ready():
            try:
                pipe = self._redis.pipeline(transaction=False)
                for key in keys:
                    pipe.exists(self.ns + "v:" + key)
                found = [bool(n) for n in pipe.execute()]
                self._redis_ok()
                return found
            except Exception as exc:
                self._redis_failed(exc)
        return [self.peek(key) is not None for key in keys]

    # --- invalidation ---------------------------------------------------------------
    def invalidate(self, key: str) -> None:
        self._invalidate([key], [])

    def invalidate_tag(self, tag: str) -> None:
        self._invalidate([], [tag])

    def invalidate_many(self, keys: Iterable[str] = (), tags: Iterable[str] = ()) -> None:
        self._invalidate(list(keys), list(tags))

    def on_invalidate(self, callback: Callable[[list, list], None]) -> None:
        """Call `callback(keys, tags)` after this process dropped them from L1 (tests, bench)."""
        self._listeners.append(callback)

    def clear_local(self) -> None:
        self.l1.clear()
        self._epoch += 1

    # --- stats ------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """This process's raw counters (what it publishes for aggregation)."""
        self._probe_l1_latency()
        self._l1_tier.hits = self.l1.hits - self._l1_hits_base - self.counters["l1_expired"]
        counters = dict(self.counters)
        counters["evictions"] = self.l1.evictions
        counters["rejections"] = self.l1.rejections
        return {
            "process": self.process_id,
            "at": time.time(),
            "tiers": {name: tier.as_dict() for name, tier in self.tiers.items()},
            "counters": counters,
            "l1_bytes": self.l1.bytes,
            "l1_entries": len(self.l1),
            "l1_max_bytes": self.l1.max_bytes,
            "breaker_open": self.breaker_open,
            "subscribed": self.subscribed.is_set(),
        }

    def stats(self) -> dict:
        """This process's figures: hits, misses, ratios, latency percentiles, bytes..."""
        out = summarize([self.snapshot()])
        out["redis"] = {
            "configured": self._redis is not None,
            "breaker_open": self.breaker_open,
            "subscribed": self.subscribed.is_set(),
        }
        return out

    @property
    def breaker_open(self) -> bool:
        return self._breaker_open_until > time.monotonic()

    # --- the miss path --------------------------------------------------------------
    def _miss(self, key: str, loader: Loader, ttl: float | None, tags: tuple, stale) -> Any:
        self._count_l1_miss(stale)
        if not self._started:
            self.start()
        epoch = self._epoch
        if not self._l2_ready():
            return self._load_single_flight(key, loader, ttl, tags, stale, epoch)
        token = uuid.uuid4().hex
        deadline = None
        delay = 0.005
        while True:
            reply = self._fetch(key, tags, token)
            if reply is None:  # Redis failed: the database still answers
                return self._load_and_store(key, loader, ttl, tags, None, None, epoch)
            found, blob, gens, extra = reply
            if found:
                value = self._decode_l2(key, blob)
                if value is not _MISSING:
                    self.tiers["l2"].hits += 1
                    stored_tags, value, size = value
                    remaining = max(int(extra), 1000) / 1000.0
                    self._fill_l1(key, value, size, stored_tags or tags, remaining, epoch)
                    return value
                # Undecodable value: treat as a miss and load over it (no lock held).
                return self._load_and_store(key, loader, ttl, tags, gens, None, epoch)
            if deadline is None:
                self.tiers["l2"].misses += 1
            if extra:  # we hold the load lock
                return self._load_and_store(key, loader, ttl, tags, gens, token, epoch)
            if stale is not None:  # someone else is loading: serve what we had
                self.counters["stale_served"] += 1
                return stale.value
            if deadline is None:
                self.counters["lock_waits"] += 1
                deadline = time.monotonic() + self.config.lock_wait
            elif time.monotonic() > deadline:
                # The holder is slow or gone: load without the lock rather than fail.
                return self._load_and_store(key, loader, ttl, tags, gens, None, epoch)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _count_l1_miss(self, entry) -> None:
        self._l1_tier.misses += 1
        if entry is not None:  # found but expired: the L1 counted it as a hit
            self.counters["l1_expired"] += 1

    def _probe_l1_latency(self, samples: int = 32) -> None:
        """Time the hit path on a few resident keys (the hot path is not timed itself)."""
        with self.l1.lock:
            keys = list(itertools.islice(self.l1.map, samples))
        found = 0
        tier, fresh, reads = self._l1_tier, self.l1.fresh, self.l1.reads
        for key in keys:
            started = time.perf_counter_ns()
            # The steps of get_or_load's hit path (a loader is not needed on a hit).
            if self.clock() < self.l1.next_expiry:
                value = fresh.get(key, MISSING)
                if value is not MISSING:
                    reads.append(key)
                    tier.observe(time.perf_counter_ns() - started)
                    found += 1
        self._l1_hits_base += found  # probes are not reads

    def _load_single_flight(self, key, loader, ttl, tags, stale, epoch) -> Any:
        """Without Redis (embedded default, or Redis down): one loader per key in this
        process; the other threads serve their stale copy or wait for the value."""
        with self._lock:
            running = self._inflight.get(key)
            if running is None:
                done = self._inflight[key] = threading.Event()
        if running is None:
            try:
                return self._load_and_store(key, loader, ttl, tags, None, None, epoch)
            finally:
                with self._lock:
                    self._inflight.pop(key, None)
                done.set()
        if stale is not None:
            self.counters["stale_served"] += 1
            return stale.value
        self.counters["lock_waits"] += 1
        running.wait(self.config.lock_wait)
        entry = self.l1.peek(key)
        if entry is not None and entry.expires > self.clock():
            return entry.value
        return self._load_and_store(key, loader, ttl, tags, None, None, epoch)

    def _fetch(self, key: str, tags: tuple, token: str):
        ns = self.ns
        keys = [ns + "v:" + key, ns + "lock:" + key, ns + "g:" + key]
        keys.extend(ns + "tg:" + tag for tag in tags)
        started = time.perf_counter_ns()
        try:
            found, blob, gens, extra = self._scripts["fetch"](
                keys=keys, args=[token, int(self.config.lock_ttl * 1000)]
            )
        except Exception as exc:
            self._redis_failed(exc)
            return None
        self._redis_ok()
        self.tiers["l2"].observe(time.perf_counter_ns() - started)
        return found, blob, gens, extra

    def _load_and_store(self, key, loader, ttl, tags, gens, token, epoch) -> Any:
        started = time.perf_counter_ns()
        try:
            value = loader()
        except BaseException:
            self.counters["load_errors"] += 1
            if token is not None:
                self._release(key, token)
            raise
        self._observe_load(started)
        self._store(key, value, ttl, tags, gens, token, epoch)
        return value

    def _observe_load(self, started: int) -> None:
        tier = self.tiers["load"]
        tier.hits += 1
        tier.observe(time.perf_counter_ns() - started)

    def _store(self, key, value, ttl, tags, gens, token, epoch) -> None:
        now = self.clock()
        expires, pinned = self._expiry(key, ttl, tags, now)
        # Encoded even without Redis: the L1 budget counts the encoded size.
        blob, raw_size = self.codec.encode((tags, value))
        if epoch == self._epoch:
            self.l1.put(key, value, raw_size, expires, tags, pinned)
        if gens is None or not self._l2_ready():
            if token is not None:
                self._release(key, token)
            return
        ns = self.ns
        keys = [ns + "v:" + key, ns + "lock:" + key, ns + "g:" + key]
        keys.extend(ns + "tg:" + tag for tag in tags)
        ttl_ms = max(int((expires - now) * 1000), 1)
        args = [gens, blob, ttl_ms, token or "", key]
        args.extend(ns + "tag:" + tag for tag in tags)
        try:
            written = self._scripts["store"](keys=keys, args=args)
            self._redis_ok()
        except Exception as exc:
            self._redis_failed(exc)
            return
        if written:  # compression figures describe what Redis holds
            self.counters["raw_bytes"] += raw_size
            self.counters["stored_bytes"] += len(blob)
            self.counters["stored_values"] += 1
            if blob[:1] == ZSTD:
                self.counters["compressed_values"] += 1

    def _release(self, key: str, token: str) -> None:
        try:
            self._scripts["release"](keys=[self.ns + "lock:" + key], args=[token])
        except Exception as exc:
            self._redis_failed(exc)

    def _fill_l1(
        self, key: str, value: Any, size: int, tags: tuple, remaining: float, epoch: int
    ) -> None:
        if epoch != self._epoch:
            return
        now = self.clock()
        pin_until = self.pin_resolver(tags) if self.pin_resolver and tags else None
        pinned = pin_until is not None and pin_until > now
        expires = max(pin_until, now + remaining) if pinned else now + remaining
        self.l1.put(key, value, size, expires, tags, pinned)

    def _expiry(self, key: str, ttl: float | None, tags: tuple, now: float) -> tuple[float, bool]:
        """(expiry time, pinned). Hot keys live longer: the base TTL times the
        key's recent frequency (the sketch's 1-15, this access included), capped;
        a live wedding's keys until it ends."""
        if self.pin_resolver is not None and tags:
            pin_until = self.pin_resolver(tags)
            if pin_until is not None and pin_until > now:
                return pin_until, True
        base = self.config.default_ttl if ttl is None else float(ttl)
        cap = max(self.config.ttl_cap, base)
        return now + min(base * max(self.l1.frequency(key), 1), cap), False

    def _decode_l2(self, key: str, blob: bytes):
        """(tags, value, size) of a stored value, or _MISSING when it cannot be read."""
        try:
            (tags, value), size = self.codec.decode_sized(blob)
            return tuple(tags), value, size
        except (CodecError, TypeError, ValueError):
            log.warning("cache: undecodable L2 value for %s; reloading", key)
            return _MISSING

    # --- invalidation internals --------------------------------------------------------
    def _invalidate(self, keys: list[str], tags: list[str]) -> None:
        self._drop_local(keys, tags)
        self.counters["invalidations_sent"] += 1
        if self._redis is None:
            return
        if not self._l2_ready() or not self._send_invalidation(keys, tags):
            with self._lock:
                self._pending_keys.update(keys)
                self._pending_tags.update(tags)

    def _send_invalidation(self, keys: list[str], tags: list[str]) -> bool:
        args = [self.ns, 86400, self.process_id, len(keys), *keys, *tags]
        try:
            self._scripts["invalidate"](keys=[], args=args)
        except Exception as exc:
            self._redis_failed(exc)
            return False
        self._redis_ok()
        return True

    def _flush_pending(self) -> None:
        with self._lock:
            keys, tags = list(self._pending_keys), list(self._pending_tags)
            self._pending_keys.clear()
            self._pending_tags.clear()
        if (keys or tags) and not self._send_invalidation(keys, tags):
            with self._lock:
                self._pending_keys.update(keys)
                self._pending_tags.update(tags)

    def _drop_local(self, keys: list[str], tags: list[str]) -> None:
        self._epoch += 1
        for key in keys:
            self.l1.discard(key)
        for tag in tags:
            self.l1.discard_tag(tag)
        for callback in self._listeners:
            try:
                callback(keys, tags)
            except Exception:
                log.exception("cache invalidation callback failed")

    # --- Redis health ------------------------------------------------------------------
    def _l2_ready(self) -> bool:
        return self._redis is not None and self._breaker_open_until <= time.monotonic()

    def _redis_ok(self) -> None:
        if self._breaker_failures:
            self._breaker_failures = 0

    def _redis_failed(self, exc: Exception) -> None:
        self.counters["redis_errors"] += 1
        self._breaker_failures += 1
        if self._breaker_failures >= self.config.breaker_failures:
            # Open: skip Redis for a while, then let the next call try it (half-open).
            self._breaker_open_until = time.monotonic() + self.config.breaker_cooldown
            self._breaker_failures = self.config.breaker_failures - 1
        log.debug("cache: redis error %s", exc)

    # --- background thread -----------------------------------------------------------
    def _background(self) -> None:
        next_stats = 0.0
        backoff = 0.1
        while not self._stop.is_set():
            if self._redis is None or not self.listen:
                next_stats = self._maybe_publish_stats(next_stats)
                self._stop.wait(0.5)
                continue
            pubsub = None
            try:
                pubsub = self._redis.pubsub()
                pubsub.subscribe(self.channel)
                while True:  # wait for the confirmation before trusting L1 again
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "subscribe":
                        break
                    if self._stop.is_set():
                        return
                # Whatever happened while we were not subscribed is unknown: forget it all.
                self.l1.clear()
                self._epoch += 1
                self.counters["l1_flushes"] += 1
                self.subscribed.set()
                self._first_attempt.set()
                self._breaker_open_until = 0.0
                self._flush_pending()
                backoff = 0.1
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        self._apply_message(message["data"])
                    if (self._pending_keys or self._pending_tags) and self._l2_ready():
                        self._flush_pending()  # the breaker closed without a reconnect
                    next_stats = self._maybe_publish_stats(next_stats)
            except Exception as exc:
                if self.subscribed.is_set():
                    log.warning("cache: invalidation listener lost Redis (%s)", exc)
                self.subscribed.clear()
                self._first_attempt.set()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                next_stats = self._maybe_publish_stats(next_stats)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # closing a dead connection may raise: nothing to do
                        log.debug("cache: closing pubsub failed", exc_info=True)

    def _apply_message(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("cache: ignoring malformed invalidation message")
            return
        if not isinstance(message, dict):
            return
        keys = [k for k in message.get("k") or [] if isinstance(k, str)]
        tags = [t for t in message.get("t") or [] if isinstance(t, str)]
        self.counters["invalidations_received"] += 1
        self._drop_local(keys, tags)

    def _maybe_publish_stats(self, due: float) -> float:
        now = time.monotonic()
        if now < due:
            return due
        self.l1.drop_expired_pins(self.clock())
        snap = self.snapshot()
        try:
            from apps.caching import metrics

            metrics.export(snap, self._prom_sent)
        except Exception:
            log.exception("cache: exporting metrics failed")
        if self._redis is not None and self._l2_ready():
            ttl = max(int(self.config.stats_interval * 3), 5)
            try:
                pipe = self._redis.pipeline(transaction=False)
                pipe.set(self.ns + "stats:" + self.process_id, orjson.dumps(snap), ex=ttl)
                pipe.zadd(self.ns + "procs", {self.process_id: time.time()})
                pipe.execute()
            except Exception as exc:
                self._redis_failed(exc)
        return now + self.config.stats_interval


_MISSING = object()


def aggregate_stats() -> dict:
    """Stats of every live process, summed (the API and the page read this)."""
    local = cache
    if local._redis is None:
        out = local.stats()
        out["source"] = "this process (no Redis: embedded default)"
        return out
    ns = local.ns
    client = local._redis
    try:
        cutoff = time.time() - max(local.config.stats_interval * 3, 5)
        client.zremrangebyscore(ns + "procs", "-inf", cutoff)
        ids = [p.decode() for p in client.zrange(ns + "procs", 0, -1)]
        blobs = client.mget([ns + "stats:" + p for p in ids]) if ids else []
        snaps = [orjson.loads(b) for b in blobs if b]
        used = client.info("memory").get("used_memory")
    except Exception as exc:
        out = local.stats()
        out["source"] = f"this process only: Redis unavailable ({type(exc).__name__})"
        return out
    # This process's figures fresh, not as last published.
    snaps = [s for s in snaps if s.get("process") != local.process_id]
    snaps.append(local.snapshot())
    out = summarize(snaps)
    out["tiers"]["l2"]["bytes"] = used
    out["source"] = f"{len(snaps)} processes through Redis"
    out["redis"] = {"configured": True, "breaker_open": local.breaker_open}
    return out


def _build() -> TwoTierCache:
    from apps.caching import pinning

    built = TwoTierCache(
        redis_url=conf.redis_url(), prefix=conf.redis_prefix(), pin_resolver=pinning.live_pin_until
    )

    def calendar_changed(keys: list, tags: list) -> None:
        # A wedding written anywhere (its tag invalidated): which weddings to pin may have
        # changed too, so re-read them on the next store instead of within 30 s.
        if any(tag.startswith("wedding:") for tag in tags):
            pinning.forget()

    built.on_invalidate(calendar_changed)
    return built


cache = _build()
