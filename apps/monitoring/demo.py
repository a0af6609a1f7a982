"""Demo data: six hours of history for the platform's own metrics, and a scrape target.

History makes the explorer worth opening on a fresh demo; live collection continues
the same series from there. The scrape target points at the server's own /metrics,
so scraping is shown working against a real Prometheus endpoint.
"""

from __future__ import annotations

import math
import os
import random
import time

from apps.accounts.seeding import SeedContext
from apps.monitoring.ingest import ingest
from apps.monitoring.models import Sample, ScrapeTarget, Series
from apps.monitoring.rollups import rollup_all

HOURS = 6
# What /metrics has that the built-in collection does not store already: the process
# figures (one process; the full stack's merged multiprocess exposition has none), and the
# counters and the latency histogram of the Prometheus client (the multiprocess ones).
SELF_SCRAPE_KEEP = (
    r"(process|python)_.*"
    r"|wedsync_(gateway_messages_in|gateway_deliveries|cache_requests|ingest_samples"
    r"|ingest_rejected_batches)_total"
    r"|wedsync_gateway_delivery_latency_seconds_(bucket|count|sum)"
)
# Earlier demo seeds' filter: it matched nothing the full stack's /metrics exposes.
OLD_KEEPS = ("", r"(process|python)_.*")
EVERY = 30  # seconds between demo points


def _curves(t: float, rng: random.Random) -> list[dict]:
    """Plausible values at unix time t: a slow daily wave plus noise, a few spikes."""
    wave = 0.5 + 0.5 * math.sin(t / 5400)
    spike = 1.0 if rng.random() < 0.004 else 0.0
    return [
        {"name": "wedsync_db_up", "value": 1},
        {
            "name": "wedsync_db_latency_ms",
            "value": round(0.8 + 2 * wave + rng.random() + 40 * spike, 3),
        },
        {"name": "wedsync_db_connections", "value": 12 + round(10 * wave)},
        {"name": "wedsync_redis_up", "value": 1},
        {"name": "wedsync_redis_used_memory_bytes", "value": 3.1e7 + 8e6 * wave},
        {"name": "wedsync_redis_connected_clients", "value": 20 + round(15 * wave)},
        {"name": "wedsync_celery_workers", "value": 2},
        {
            "name": "wedsync_celery_queue_length",
            "labels": {"queue": "celery"},
            "value": max(0, round(3 * wave + rng.gauss(0, 1) + 60 * spike)),
        },
        {
            "name": "wedsync_process_cpu_percent",
            "labels": {"process": "worker", "host": "demo"},
            "value": round(8 + 30 * wave + rng.random() * 5, 2),
        },
        {
            "name": "wedsync_process_rss_bytes",
            "labels": {"process": "worker", "host": "demo"},
            "value": 1.4e8 + 2e7 * wave,
        },
    ]


def seed(ctx: SeedContext) -> None:
    now = time.time()
    end = now - now % EVERY
    start = end - HOURS * 3600
    latency = Series.objects.filter(name="wedsync_db_latency_ms", labels={}).first()
    if latency and Sample.objects.filter(series=latency, ts__gte=start).exists():
        ctx.stdout.write("monitoring: history already present, left as is\n")
    else:
        rng = random.Random(42)
        batch: list[dict] = []
        steps = range(int(start), int(end), EVERY)
        for t in ctx.progress(steps, "metric history"):
            for sample in _curves(t, rng):
                sample["ts"] = float(t)
                batch.append(sample)
            if len(batch) >= 10_000:
                ingest(batch)
                batch = []
        if batch:
            ingest(batch)
        rollup_all()
    port = os.environ.get("PORT", "8000")
    # Not the gauges of /metrics: the built-in collection stores those already, and they
    # would be counted twice (see SELF_SCRAPE_KEEP).
    target, _ = ScrapeTarget.objects.get_or_create(
        name="wedsync-ops self",
        defaults={
            "url": f"http://127.0.0.1:{port}/metrics",
            "interval_seconds": 15,
            "labels": {"job": "wedsync-ops"},
        },
    )
    if target.keep in OLD_KEEPS:  # demo databases seeded with an older filter
        target.keep = SELF_SCRAPE_KEEP
        target.save(update_fields=["keep"])
