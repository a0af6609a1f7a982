"""Live samples for ops pages, with a sequence number per metric stream.

A page subscribes to the metric names it shows. Each committed batch becomes one frame per
metric name, and every frame carries its stream's next sequence number, kept in Redis in
the full stack (shared by every ingesting process), so a page that misses a frame (a Redis
blip) sees the gap and reloads over REST.

Full stack: the batch is PUBLISHed once and each Daphne process's hub (hub.py) writes it
to its own sockets. Embedded default (one process, in-memory layer): one channel-layer
group per metric name.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.dashboards.conf import live_transport
from apps.dashboards.hub import channel as hub_channel
from apps.dashboards.hub import watched_key, watched_version_key

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


async def _send_frames(frames: list[dict]) -> int:
    layer = get_channel_layer()
    sent = 0
    for frame in frames:
        try:
            await layer.group_send(frame["stream"], {"type": "ops.samples", "frame": frame})
            sent += 1
        except Exception:  # best effort: pages see the gap by sequence number
            log.warning("ops sample push failed", exc_info=True)
    return sent


_WATCHED_MAX_AGE = 10.0  # seconds; also re-read when the hubs bump the version
_watched: tuple[float, bytes | None, frozenset[str]] = (0.0, None, frozenset())


def _watched_names(version: bytes | None) -> frozenset[str]:
    """Metric names some page watches now (hub.py keeps the set)."""
    global _watched
    read_at, known_version, names = _watched
    now = time.monotonic()
    if version == known_version and now - read_at < _WATCHED_MAX_AGE:
        return names
    raw = _client().zrangebyscore(watched_key(), time.time(), "+inf")
    names = frozenset(n.decode() for n in raw)
    _watched = (now, version, names)
    return names


def push_samples(samples: list[tuple]) -> int:
    """Send a committed batch to the pages subscribed to its metrics.

    Returns the number of frames published. Best effort: a failure is logged and the
    pages notice the gap by sequence number."""
    if get_channel_layer() is None:
        return 0
    if live_transport() == "hub":
        return _publish_watched(samples)
    frames = frames_for(samples)
    if not frames:
        return 0
    try:
        seqs = next_seqs([f["stream"] for f in frames.values()])
    except Exception:
        log.warning("ops sequence numbers unavailable; not pushing", exc_info=True)
        return 0
    for frame, seq in zip(frames.values(), seqs, strict=True):
        frame["seq"] = seq
    # Groups: the embedded default's in-memory layer belongs to the server's loop, which
    # async_to_sync reaches from a request thread.
    return _run_sync(_send_frames, list(frames.values()))


def _publish_watched(samples: list[tuple]) -> int:
    """Full stack: one PUBLISH per batch; each Daphne's hub fans out to its own sockets.

    Frames are built only for metrics a page watches: most ingested metrics have no page
    open, and grouping and serialising their samples was the largest cost of a POST after
    the write itself. Every metric's stream still advances, so a page that subscribes
    in a race with this batch sees a gap in the sequence and reloads over REST instead
    of silently missing samples.
    """
    names = {sample[0] for sample in samples}
    streams = {name: stream_for(name) for name in names}
    try:
        # One round trip: the watched set's version and every stream's next number.
        pipe = _client().pipeline(transaction=False)
        pipe.get(watched_version_key())
        for stream in streams.values():
            pipe.incr(_key(stream))
        version, *numbers = pipe.execute()
        seqs = dict(zip(streams.values(), (int(n) for n in numbers), strict=True))
        watched = names & _watched_names(version)
    except Exception:
        log.warning("ops sequence numbers unavailable; not pushing", exc_info=True)
        return 0
    if not watched:
        return 0
    frames = frames_for(sample for sample in samples if sample[0] in watched)
    for frame in frames.values():
        frame["seq"] = seqs[frame["stream"]]
    try:
        _client().publish(hub_channel(), orjson.dumps({"frames": list(frames.values())}))
    except Exception:
        log.warning("ops sample publish failed", exc_info=True)
        return 0
    return len(frames)


def _run_sync(fn, *args):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(fn)(*args)
    # Called from a thread that runs a loop of its own (a test's browser driver).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(fn), *args).result(timeout=10)


def on_samples_ingested(sender=None, samples=None, **kwargs) -> None:
    """Receiver of apps.monitoring.signals.samples_ingested (sent after commit)."""
    if samples:
        push_samples(list(samples))


def connect_receiver() -> None:
    from apps.monitoring.signals import samples_ingested

    samples_ingested.connect(on_samples_ingested, dispatch_uid="dashboards.live")
