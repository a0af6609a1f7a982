"""seed_demo: the Wedding Day dashboard and a few hours of samples so its charts have data."""

from __future__ import annotations

import itertools
import time

from apps.accounts.seeding import SeedContext
from apps.dashboards.demo_samples import sample_rows
from apps.dashboards.wedding_day import ensure_wedding_day

HOURS = 6
STEP_SECONDS = 15.0
BATCH = 10_000


def seed(ctx: SeedContext) -> None:
    dashboard, created = ensure_wedding_day()
    ctx.stdout.write(f"dashboards: {dashboard.name} {'created' if created else 'kept'}\n")
    try:
        from apps.monitoring.ingest import ingest
        from apps.monitoring.query import latest
    except ModuleNotFoundError:
        ctx.stdout.write("dashboards: no monitoring app, no demo samples\n")
        return
    now = time.time()
    newest = max((r["ts"] for r in latest("wedsync_gateway_connections")), default=0.0)
    start = max(now - HOURS * 3600, float(newest) + STEP_SECONDS)
    if start >= now:
        return  # samples already run up to now (idempotent re-run)
    rows = sample_rows(start, now, STEP_SECONDS)
    total = int((now - start) / STEP_SECONDS) * 21  # samples per tick
    batches = iter(lambda: list(itertools.islice(rows, BATCH)), [])
    for batch in ctx.progress(batches, "dashboards: demo samples", total=total // BATCH + 1):
        ingest(batch, now=now)


def after_commit(ctx: SeedContext) -> None:
    """Roll the new samples up so 24 h and 7 d views have data at once."""
    try:
        from apps.monitoring.rollups import rollup_all
    except ModuleNotFoundError:
        return
    rollup_all()
