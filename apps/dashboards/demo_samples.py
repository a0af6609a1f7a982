"""A few hours of believable samples for the Wedding Day metrics (demo data only).

The series are the real ones: live weddings per region are counted from the calendar's
own weddings (so the stacked chart agrees with the live tile), and capacity is given for
the scaling manager's real pools; only gateway load, latency and cache figures are made up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

# A live window of the calendar: (region code, start, end) in unix seconds.
LiveWindow = tuple[str, float, float]


def live_at(t: float, regions: Sequence[str], windows: Sequence[LiveWindow]) -> dict[str, int]:
    """{region: weddings live at t}, every region present (0 included)."""
    counts = dict.fromkeys(regions, 0)
    for region, begins, ends in windows:
        if begins <= t < ends:
            counts[region] = counts.get(region, 0) + 1
    return counts


def sample_rows(
    start: float,
    end: float,
    step: float,
    seed: int = 7,
    *,
    regions: Sequence[str] = (),
    windows: Sequence[LiveWindow] = (),
    pools: dict[str, float] | None = None,
) -> Iterator[dict]:
    """Samples from start to end: a Saturday-afternoon swell with noise and a latency blip.

    `regions` and `windows` give the calendar's live weddings; `pools` maps each scaling
    pool to the gateway connections one unit of it carries at its target."""
    rng = random.Random(seed)
    pools = pools or {}
    t = start

    def s(name: str, value: float, **labels: str) -> dict:
        return {"name": name, "labels": labels, "value": value, "ts": t}

    def swell_at(when: float) -> float:
        hour = (when % 86400) / 3600
        return 0.55 + 0.45 * math.sin((hour - 9) / 24 * 2 * math.pi)

    while t <= end:
        swell = swell_at(t)
        conns = max(50.0, 2600 * swell + rng.gauss(0, 60))
        blip = 1.0 + 2.5 * math.exp(-(((t - (end - 5400)) / 600) ** 2))  # 90 minutes ago
        p50 = 18 + 10 * swell + rng.gauss(0, 2)
        yield s("wedsync_gateway_connections", round(conns))
        yield s("wedsync_forecast_connections", round(2600 * swell_at(t + 900)))
        for q, k in (("p50", 1.0), ("p95", 3.2), ("p99", 5.5)):
            yield s(
                "wedsync_gateway_latency_ms",
                max(1.0, p50 * k * blip + rng.gauss(0, k * 2)),
                quantile=q,
            )
        yield s("wedsync_gateway_error_rate", max(0.0, 0.002 * blip + rng.gauss(0, 0.0006)))
        for tier, base in (("l1", 0.71), ("l2", 0.83), ("total", 0.94)):
            v = min(1.0, base - 0.02 * (blip - 1) + rng.gauss(0, 0.01))
            yield s("wedsync_cache_hit_ratio", v, tier=tier)
        # Capacity per pool; the current units lag the desired ones by 10 minutes.
        for pool, per_unit in pools.items():
            yield s(
                "wedsync_capacity_desired",
                math.ceil(2600 * swell_at(t + 900) / per_unit),
                pool=pool,
            )
            yield s(
                "wedsync_capacity_current",
                math.ceil(2600 * swell_at(t - 600) / per_unit),
                pool=pool,
            )
        for region, n in sorted(live_at(t, regions, windows).items()):
            yield s("wedsync_weddings_live", n, region=region)
        yield s("wedsync_db_up", 1)
        yield s("wedsync_db_latency_ms", max(0.3, 1.4 + rng.gauss(0, 0.3)))
        yield s("wedsync_redis_up", 1)
        yield s("wedsync_celery_workers", 2)
        yield s("wedsync_gateway_breaker_open", 0, breaker="redis")
        t += step
