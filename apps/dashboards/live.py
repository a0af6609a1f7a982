"""Live samples for ops pages: one channel-layer group per metric name, with sequence numbers.

A page subscribes to the metric names it shows; each ingested batch is sent once per
metric name to that name's group. Every frame carries the stream's next sequence
number, kept in Redis in the full stack (shared by every ingesting process), so a page
that misses a frame (a Redis blip, a full channel) sees the gap and reloads over REST.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

log = logging.getLogger(__name__)

MAX_SUBSCRIBED = 200


def stream_for(name: str) -> str:
    """Group name of a metric: short, and valid for any channel layer."""
    return "ops.m." + hashlib.sha1(name.encode()).hexdigest()[:16]


class _LocalSeq:
    """Sequence numbers for the embedded default (one process by definition)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._last: dict[str, int] = {}

    def next(self, streams: list[str]) -> list[int]:
        with self._lock:
            out = [next(self._seq[s]) for s in streams]
            self._last.update(zip(streams, out, strict=True))
            return out

    def current(self, streams: list[str]) -> list[int]:
        with self._lock:
            return [self._last.get(s, 0) for s in streams]


_local = _LocalSeq()
_redis = None


def _client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
    return _redis


def _key(stream: str) -> str:
    return f"{settings.REDIS_PREFIX}:ops:seq:{stream}"


def next_seqs(streams: list[str]) -> list[int]:
    if not settings.REDIS_URL:
        return _local.next(streams)
    pipe = _client().pipeline(transaction=False)
    for s in streams:
        pipe.incr(_key(s))
    return [int(n) for n in pipe.execute()]


def current_seqs(streams: list[str]) -> list[int]:
    if not settings.REDIS_URL:
        return _local.current(streams)
    return [int(v or 0) for v in _client().mget([_key(s) for s in streams])]


def frames_for(samples: Iterable[tuple]) -> dict[str, dict]:
    """Group (name, labels, ts, value) samples by metric name into frames (no seq yet)."""
    by_name: dict[str, list] = defaultdict(list)
    for name, labels, ts, value in samples:
        by_name[name].append([labels, ts, value])
    return {
        name: {"op": "samples", "name": name, "stream": stream_for(name), "samples": rows}
        for name, rows in by_name.items()
    }


def push_samples(samples: list[tuple]) -> int:
    """Send a committed batch to the pages subscribed to its metrics; returns frames sent.

    Best effort: a failure is logged and the pages notice the gap by sequence number."""
    frames = frames_for(samples)
    if not frames:
        return 0
    layer = get_channel_layer()
    if layer is None:
        return 0
    try:
        seqs = next_seqs([f["stream"] for f in frames.values()])
    except Exception:
        log.warning("ops sequence numbers unavailable; not pushing", exc_info=True)
        return 0
    sent = 0

    async def send_all() -> None:
        nonlocal sent
        for frame, seq in zip(frames.values(), seqs, strict=True):
            frame["seq"] = seq
            await layer.group_send(frame["stream"], {"type": "ops.samples", "frame": frame})
            sent += 1

    try:
        _run(send_all)
    except Exception:
        log.warning("ops sample push failed", exc_info=True)
    return sent


def _run(coro_fn) -> None:
    """async_to_sync, also from a thread that already runs an event loop (then off-thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(coro_fn)()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(coro_fn)).result(timeout=10)


def on_samples_ingested(sender=None, samples=None, **kwargs) -> None:
    """Receiver of apps.monitoring.signals.samples_ingested (sent after commit)."""
    if samples:
        push_samples(list(samples))


def connect_receiver() -> bool:
    try:
        from apps.monitoring.signals import samples_ingested
    except ImportError:
        log.info("apps.monitoring.signals not present: dashboards get no live samples")
        return False
    samples_ingested.connect(on_samples_ingested, dispatch_uid="dashboards.live")
    return True
