"""Recent sample windows per series, kept where reading them is cheap.

Full stack: Redis (shared by every web process and worker) — one sorted set per series
scored by timestamp, a hash of each metric's series labels and a sorted set of when each
series was last seen (for no-data rules). Embedded default: the same in process memory.
Every key starts with settings.REDIS_PREFIX.
"""

from __future__ import annotations

import bisect
import struct
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import orjson
from django.conf import settings

from apps.alerts import conf
from apps.alerts.models import fingerprint

Sample = tuple[str, dict, float, float]  # (metric, labels, ts, value)
# A window: float64 array of shape (n, 2), rows (ts, value) in time order.
Window = np.ndarray
_PAIR = struct.Struct("<dd")
READ_WINDOWS_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = table.concat(redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf'))
end
return out
"""
_EMPTY = np.empty((0, 2))


VERSION_NAMES = ("rules", "alerts")


class WindowStore(Protocol):
    def append(
        self, samples: Iterable[Sample], tracked: frozenset[str] | None = None
    ) -> dict[str, dict[str, dict]]: ...
    def append_and_versions(
        self, samples: Iterable[Sample], tracked: frozenset[str] | None = None
    ) -> tuple[dict[str, dict[str, dict]], tuple[int, int]]: ...
    def versions(self) -> tuple[int, int]: ...
    def bump(self, name: str) -> None: ...
    def read(self, metric: str, fps: Iterable[str], start: float) -> dict[str, Window]: ...
    def read_many(
        self, wants: dict[str, tuple[Iterable[str], float]]
    ) -> dict[str, dict[str, Window]]: ...
    def series(self, metric: str) -> dict[str, dict]: ...
    def last_seen(self, metric: str) -> dict[str, float]: ...
    def clear(self) -> None: ...


def _group(samples: Iterable[Sample]) -> dict[str, dict[str, tuple[dict, list]]]:
    """metric -> fingerprint -> (labels, [(ts, value)])"""
    grouped: dict[str, dict[str, tuple[dict, list]]] = defaultdict(dict)
    for name, labels, ts, value in samples:
        by_fp = grouped[name]
        fp = fingerprint(labels)
        if fp not in by_fp:
            by_fp[fp] = (labels, [])
        by_fp[fp][1].append((float(ts), float(value)))
    return grouped


def group_labels(samples: Iterable[Sample]) -> dict[str, dict[str, dict]]:
    """metric -> fingerprint -> labels of the samples."""
    return {
        name: {fp: labels for fp, (labels, _) in by_fp.items()}
        for name, by_fp in _group(samples).items()
    }


class MemoryWindowStore:
    """One process only (the embedded default, unit tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], Window] = {}
        self._series: dict[str, dict[str, dict]] = defaultdict(dict)
        self._seen: dict[str, dict[str, float]] = defaultdict(dict)
        self._versions = dict.fromkeys(VERSION_NAMES, 0)

    def bump(self, name: str) -> None:
        with self._lock:
            self._versions[name] += 1

    def versions(self) -> tuple[int, int]:
        with self._lock:
            return self._versions["rules"], self._versions["alerts"]

    def append_and_versions(self, samples, tracked=None):
        return self.append(samples, tracked), self.versions()

    def append(self, samples: Iterable[Sample], tracked=None) -> dict[str, dict[str, dict]]:
        touched: dict[str, dict[str, dict]] = {}
        with self._lock:
            for name, by_fp in _group(samples).items():
                touched[name] = {}
                for fp, (labels, points) in by_fp.items():
                    window = self._windows.setdefault((name, fp), [])
                    for point in points:
                        bisect.insort(window, point)
                    horizon = window[-1][0] - conf.MAX_WINDOW_SECONDS
                    cut = bisect.bisect_left(window, (horizon, float("-inf")))
                    del window[:cut]
                    if tracked is None or name in tracked:
                        self._series[name][fp] = labels
                        self._seen[name][fp] = max(self._seen[name].get(fp, 0.0), window[-1][0])
                    touched[name][fp] = labels
        return touched

    def read(self, metric: str, fps: Iterable[str], start: float) -> dict[str, Window]:
        out: dict[str, Window] = {}
        with self._lock:
            for fp in fps:
                window = self._windows.get((metric, fp), [])
                cut = bisect.bisect_left(window, (start, float("-inf")))
                out[fp] = np.array(window[cut:], dtype=float).reshape(-1, 2)
        return out

    def read_many(
        self, wants: dict[str, tuple[Iterable[str], float]]
    ) -> dict[str, dict[str, Window]]:
        return {metric: self.read(metric, fps, start) for metric, (fps, start) in wants.items()}

    def series(self, metric: str) -> dict[str, dict]:
        with self._lock:
            return dict(self._series.get(metric, {}))

    def last_seen(self, metric: str) -> dict[str, float]:
        with self._lock:
            return dict(self._seen.get(metric, {}))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
            self._series.clear()
            self._seen.clear()


class RedisWindowStore:
    """Shared by every process; one pipelined round trip per append and per read."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.prefix = f"{prefix}:alerts"
        # Each window comes back as one string (its packed members concatenated inside Redis):
        # one Python object per series instead of one per sample.
        self._read_script = self.client.register_script(READ_WINDOWS_LUA)

    def _wkey(self, metric: str, fp: str) -> str:
        return f"{self.prefix}:w:{metric}:{fp}"

    def _vkey(self, name: str) -> str:
        return f"{self.prefix}:version:{name}"

    def bump(self, name: str) -> None:
        self.client.incr(self._vkey(name))

    def versions(self) -> tuple[int, int]:
        return tuple(int(v or 0) for v in self.client.mget([self._vkey(n) for n in VERSION_NAMES]))

    def append(self, samples: Iterable[Sample], tracked=None) -> dict[str, dict[str, dict]]:
        return self.append_and_versions(samples, tracked)[0]

    def append_and_versions(self, samples, tracked=None):
        """Append, and in the same round trip read the rules/alerts versions (caches).

        The series index and last-seen times (no-data rules) are kept only for the metrics in
        `tracked` (None: all): three commands per series instead of five on the hot path."""
        touched: dict[str, dict[str, dict]] = {}
        pipe = self.client.pipeline(transaction=False)
        for name, by_fp in _group(samples).items():
            touched[name] = {}
            series_key = f"{self.prefix}:s:{name}"
            seen_key = f"{self.prefix}:seen:{name}"
            for fp, (labels, points) in by_fp.items():
                key = self._wkey(name, fp)
                # The member is the packed (ts, value) pair: 16 bytes, unique per sample, and a
                # window reads back as one buffer for numpy (no per-point parsing in Python).
                pipe.zadd(key, {_PAIR.pack(ts, value): ts for ts, value in points})
                newest = max(ts for ts, _ in points)
                pipe.zremrangebyscore(key, "-inf", f"({newest - conf.MAX_WINDOW_SECONDS}")
                pipe.expire(key, conf.MAX_WINDOW_SECONDS * 2)
                if tracked is None or name in tracked:
                    pipe.hset(series_key, fp, orjson.dumps(labels))
                    pipe.zadd(seen_key, {fp: newest}, gt=True)
                touched[name][fp] = labels
        pipe.mget([self._vkey(n) for n in VERSION_NAMES])
        versions = pipe.execute()[-1]
        return touched, tuple(int(v or 0) for v in versions)

    def read(self, metric: str, fps: Iterable[str], start: float) -> dict[str, Window]:
        return self.read_many({metric: (fps, start)})[metric]

    def read_many(
        self, wants: dict[str, tuple[Iterable[str], float]]
    ) -> dict[str, dict[str, Window]]:
        """Every wanted window of every metric in one pipelined round trip."""
        plan: list[tuple[str, list[str]]] = []
        pipe = self.client.pipeline(transaction=False)
        for metric, (fps, start) in wants.items():
            fps = list(fps)
            for i in range(0, len(fps), 500):  # bounded work per script call inside Redis
                chunk = fps[i : i + 500]
                self._read_script(
                    keys=[self._wkey(metric, fp) for fp in chunk], args=[start], client=pipe
                )
                plan.append((metric, chunk))
        out: dict[str, dict[str, Window]] = {metric: {} for metric in wants}
        if not plan:
            return out
        for (metric, chunk), blobs in zip(plan, pipe.execute(), strict=True):
            for fp, blob in zip(chunk, blobs, strict=True):
                out[metric][fp] = (
                    np.frombuffer(blob, dtype="<f8").reshape(-1, 2) if blob else _EMPTY
                )
        return out

    def series(self, metric: str) -> dict[str, dict]:
        raw = self.client.hgetall(f"{self.prefix}:s:{metric}")
        return {fp.decode(): orjson.loads(labels) for fp, labels in raw.items()}

    def last_seen(self, metric: str) -> dict[str, float]:
        rows = self.client.zrange(f"{self.prefix}:seen:{metric}", 0, -1, withscores=True)
        return {fp.decode(): score for fp, score in rows}

    def clear(self) -> None:
        keys = list(self.client.scan_iter(f"{self.prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            self.client.delete(*keys[i : i + 500])


_store: WindowStore | None = None
_store_lock = threading.Lock()


def store() -> WindowStore:
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                if settings.REDIS_URL:
                    _store = RedisWindowStore(settings.REDIS_URL, settings.REDIS_PREFIX)
                else:
                    _store = MemoryWindowStore()
    return _store


def reset_store() -> None:
    """Forget the cached store (tests that change REDIS_URL)."""
    global _store
    _store = None
