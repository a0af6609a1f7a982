"""A few hours of believable samples for the Wedding Day metrics (demo data only)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

REGIONS = ("uk", "eu-west", "us-east", "us-west", "au")
PER_PROCESS = 300  # gateway connections one process carries at the 70 % target


def sample_rows(start: float, end: float, step: float, seed: int = 7) -> Iterator[dict]:
    """Samples from start to end: a Saturday-afternoon swell with noise and a latency blip."""
    rng = random.Random(seed)
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
        # Capacity in gateway processes; the current pool lags the desired one by 10 minutes.
        yield s(
            "wedsync_capacity_desired",
            math.ceil(2600 * swell_at(t + 900) / PER_PROCESS),
            pool="gateway",
        )
        yield s(
            "wedsync_capacity_current",
            math.ceil(2600 * swell_at(t - 600) / PER_PROCESS),
            pool="gateway",
        )
        quarter = math.floor(t / 900)
        for i, region in enumerate(REGIONS):
            # Weddings start and end on the quarter hour: a step curve, not noise.
            jitter = random.Random(quarter * 10 + i).gauss(0, 0.6)
            yield s("wedsync_weddings_live", max(0, round((6 - i) * swell + jitter)), region=region)
        yield s("wedsync_db_up", 1)
        yield s("wedsync_db_latency_ms", max(0.3, 1.4 + rng.gauss(0, 0.3)))
        yield s("wedsync_redis_up", 1)
        yield s("wedsync_celery_workers", 2)
        yield s("wedsync_gateway_breaker_open", 0, breaker="redis")
        t += step
