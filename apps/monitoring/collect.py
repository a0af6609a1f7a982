"""Built-in collection: the platform's own health, sampled every 5 s (1 s on wedding days).

Beat ticks every second; `collect_if_due` decides. One atomic Redis SET NX PX is both
the schedule and the lock: the first worker to set the key runs this interval, every
other tick within it skips. The embedded default uses the local cache the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time

import psutil
from django.conf import settings
from django.db import connection

from apps.core import jobs
from apps.core.discovery import app_modules
from apps.monitoring.ingest import Batch, IngestError, store, validate

log = logging.getLogger(__name__)

HOST = socket.gethostname()
_PROCESS = psutil.Process(os.getpid())
_PROCESS.cpu_percent(None)  # primes the counter: the first reading is against this one


def any_wedding_live(at=None) -> bool:
    from apps.weddings.live import is_any_wedding_live

    return is_any_wedding_live(at)


def interval_seconds(live: bool) -> float:
    key = "COLLECT_INTERVAL_LIVE_SECONDS" if live else "COLLECT_INTERVAL_SECONDS"
    return float(settings.WEDSYNC[key])


_redis_client = None


def _redis():
    """One client (and connection pool) per process, made on first use."""
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1)
    return _redis_client


def _set_nx(key: str, seconds: float) -> bool:
    """SET key NX with an expiry: True for exactly one caller until it expires or is freed."""
    key = f"{settings.REDIS_PREFIX}:monitoring:collect:{key}"
    if settings.REDIS_URL:
        return bool(_redis().set(key, "1", nx=True, px=int(seconds * 1000)))
    from django.core.cache import cache

    return cache.add(key, 1, timeout=seconds)


def _free(key: str) -> None:
    key = f"{settings.REDIS_PREFIX}:monitoring:collect:{key}"
    if settings.REDIS_URL:
        _redis().delete(key)
    else:
        from django.core.cache import cache

        cache.delete(key)


def _claim(interval: float) -> bool:
    """True for exactly one caller per interval, across processes."""
    # A little under the interval, so a tick arriving a few ms early is not skipped.
    return _set_nx("claim", max(interval - 0.2, 0.05))


def _sample(name: str, value: float, **labels: str) -> dict:
    return {"name": name, "labels": labels, "value": float(value)}


def collect_database() -> list[dict]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            latency = (time.perf_counter() - started) * 1000
            out = [_sample("wedsync_db_up", 1), _sample("wedsync_db_latency_ms", latency)]
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                )
                out.append(_sample("wedsync_db_connections", cursor.fetchone()[0]))
            return out
    except Exception as exc:
        log.warning("database check failed: %s", exc)
        return [_sample("wedsync_db_up", 0)]


def collect_redis() -> list[dict]:
    if not settings.REDIS_URL:
        return []
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        info = client.info()
        return [
            _sample("wedsync_redis_up", 1),
            _sample("wedsync_redis_used_memory_bytes", info["used_memory"]),
            _sample("wedsync_redis_connected_clients", info["connected_clients"]),
        ]
    except Exception as exc:
        log.warning("redis check failed: %s", exc)
        return [_sample("wedsync_redis_up", 0)]
    finally:
        client.close()


def collect_celery() -> list[dict]:
    if not settings.REDIS_URL:  # the embedded default runs tasks eagerly: no workers, no queue
        return []
    app = jobs.app()
    out = []
    queue = app.conf.task_default_queue or "celery"
    try:
        import redis

        client = redis.Redis.from_url(app.conf.broker_url, socket_timeout=1)
        try:
            out.append(_sample("wedsync_celery_queue_length", client.llen(queue), queue=queue))
        finally:
            client.close()
        replies = app.control.ping(timeout=0.25)
        out.append(_sample("wedsync_celery_workers", len(replies)))
    except Exception as exc:
        log.warning("celery check failed: %s", exc)
    return out


def _process_role() -> str:
    argv = " ".join(sys.argv)
    if "celery" in argv:
        return "worker"
    return "server"


def collect_process() -> list[dict]:
    role = _process_role()
    with _PROCESS.oneshot():
        cpu = _PROCESS.cpu_percent(None)
        rss = _PROCESS.memory_info().rss
    return [
        _sample("wedsync_process_cpu_percent", cpu, process=role, host=HOST),
        _sample("wedsync_process_rss_bytes", rss, process=role, host=HOST),
    ]


# wedsync_weddings_live{region} comes from the calendar's own collector (apps.weddings).
BUILTIN = (collect_database, collect_redis, collect_celery, collect_process)


def app_collectors() -> list[tuple[str, object]]:
    """Every `apps/*/collectors.py: collect()` (the gateway's, the cache's, ...)."""
    return [
        (app, module.collect)
        for app, module in app_modules("collectors")
        if callable(getattr(module, "collect", None))
    ]


def collect_all(now: float | None = None) -> int:
    """Run every collector and ingest the lot in one batch; returns samples stored.

    Each collector's output is validated on its own, so one broken collector costs
    only its own samples (and reports wedsync_collector_up=0), never the batch.
    """
    now = time.time() if now is None else now
    batch = Batch()
    sources = [(f"builtin.{f.__name__[8:]}", f) for f in BUILTIN] + app_collectors()
    health = []
    for name, collect in sources:
        try:
            checked = validate(list(collect() or []), now=now)
            ok = 1
        except IngestError as exc:
            log.warning("collector %s returned invalid samples: %s %s", name, exc, exc.errors[:3])
            checked, ok = Batch(), 0
        except Exception:
            log.exception("collector %s failed", name)
            checked, ok = Batch(), 0
        health.append(_sample("wedsync_collector_up", ok, collector=name))
        batch.extend(checked)
    batch.extend(validate(health, now=now))
    return store(batch)


def collect_if_due() -> int | None:
    """Collect when this interval has not been collected yet; None when skipped.

    A collection still running (a slow database, a busy machine) is not overlapped by
    the next tick's: runs would pile up exactly when the platform is struggling.
    """
    live = any_wedding_live()
    if not _claim(interval_seconds(live)):
        return None
    if not _set_nx("running", 60):
        return None
    try:
        return collect_all()
    finally:
        _free("running")
