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
    from apps.monitoring.ingest import ingest
    from apps.monitoring.query import latest

    now = time.time()
    newest = max((r["ts"] for r in latest("wedsync_gateway_connections")), default=0.0)
    start = max(now - HOURS * 3600, float(newest) + STEP_SECONDS)
    if start >= now:
        return  # samples already run up to now (idempotent re-run)
    regions, windows = calendar_windows(start, now)
    pools = pool_capacities()
    rows = sample_rows(start, now, STEP_SECONDS, regions=regions, windows=windows, pools=pools)
    per_tick = 14 + len(regions) + 2 * len(pools)
    total = int((now - start) / STEP_SECONDS) * per_tick
    batches = iter(lambda: list(itertools.islice(rows, BATCH)), [])
    for batch in ctx.progress(batches, "dashboards: demo samples", total=total // BATCH + 1):
        ingest(batch, now=now)


def calendar_windows(start: float, end: float) -> tuple[list[str], list[tuple[str, float, float]]]:
    """The regions and the live windows of the weddings live at some time in [start, end]."""
    from datetime import UTC, datetime

    from apps.weddings.live import live_weddings, live_window
    from apps.weddings.models import Region

    regions = list(Region.objects.order_by("code").values_list("code", flat=True))
    at = datetime.fromtimestamp(start, UTC)
    hours = (end - start) / 3600
    windows = []
    for wedding in live_weddings(at=at, within_hours=hours):
        begins, ends = live_window(wedding)
        windows.append((wedding.venue.region.code, begins.timestamp(), ends.timestamp()))
    return regions, windows


def pool_capacities() -> dict[str, float]:
    """{pool: gateway connections one unit carries at its target} for the real pools."""
    from apps.scaling import conf
    from apps.scaling.models import ScalingPolicy

    per_connection = conf.messages_per_connection()
    out = {}
    for policy in ScalingPolicy.objects.filter(enabled=True).order_by("pool"):
        per_unit = policy.capacity_per_unit * policy.target_utilisation_high
        # A web unit carries connections; a worker unit messages, which connections send.
        out[policy.pool] = per_unit if policy.pool == "web" else per_unit / per_connection
    return out


def after_commit(ctx: SeedContext) -> None:
    """Roll the new samples up so 24 h and 7 d views have data at once."""
    from apps.monitoring.rollups import rollup_all

    rollup_all()
