"""A few hours of believable samples for the Wedding Day metrics (demo data only)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

REGIONS = ("uk", "eu-west", "us-east", "us-west", "au")


def sample_rows(start: float, end: float, step: float, seed: int = 7) -> Iterator[dict]:
    """Samples from start to end: a Saturday-afternoon swell with noise and a latency blip."""
    rng = random.Random(seed)
    t = start
    while t <= end:
        hour = (t % 86400) / 3600
        swell = 0.55 + 0.45 * math.sin((hour - 9) / 24 * 2 * math.pi)
        conns = max(50.0, 2600 * swell + rng.gauss(0, 60))
        blip = 1.0 + 2.5 * math.exp(-(((t - (end - 5400)) / 600) ** 2))  # 90 minutes ago
        p50 = 18 + 10 * swell + rng.gauss(0, 2)
        yield {"name": "wedsync_gateway_connections", "labels": {}, "value": round(conns), "ts": t}
        yield {
            "name": "wedsync_forecast_connections",
            "labels": {},
            "value": round(2600 * swell),
            "ts": t,
        }
        for q, k in (("p50", 1.0), ("p95", 3.2), ("p99", 5.5)):
            v = max(1.0, p50 * k * blip + rng.gauss(0, k * 2))
            yield {
                "name": "wedsync_gateway_latency_ms",
                "labels": {"quantile": q},
                "value": v,
                "ts": t,
            }
        err = max(0.0, 0.002 * blip + rng.gauss(0, 0.0006))
        yield {"name": "wedsync_gateway_error_rate", "labels": {}, "value": err, "ts": t}
        for tier, base in (("l1", 0.71), ("l2", 0.83), ("total", 0.94)):
            v = min(1.0, base - 0.02 * (blip - 1) + rng.gauss(0, 0.01))
            yield {"name": "wedsync_cache_hit_ratio", "labels": {"tier": tier}, "value": v, "ts": t}
        desired = math.ceil(conns / 1000 / 0.7)
        yield {
            "name": "wedsync_capacity_desired",
            "labels": {"pool": "gateway"},
            "value": desired,
            "ts": t,
        }
        yield {
            "name": "wedsync_capacity_current",
            "labels": {"pool": "gateway"},
            "value": max(2, desired - (1 if blip > 1.5 else 0)),
            "ts": t,
        }
        for i, region in enumerate(REGIONS):
            live = max(0, round((6 - i) * swell + rng.gauss(0, 0.4)))
            yield {
                "name": "wedsync_weddings_live",
                "labels": {"region": region},
                "value": live,
                "ts": t,
            }
        yield {"name": "wedsync_db_up", "labels": {}, "value": 1, "ts": t}
        yield {
            "name": "wedsync_db_latency_ms",
            "labels": {},
            "value": max(0.3, 1.4 + rng.gauss(0, 0.3)),
            "ts": t,
        }
        yield {"name": "wedsync_redis_up", "labels": {}, "value": 1, "ts": t}
        yield {"name": "wedsync_celery_workers", "labels": {}, "value": 2, "ts": t}
        yield {
            "name": "wedsync_gateway_breaker_open",
            "labels": {"breaker": "redis"},
            "value": 0,
            "ts": t,
        }
        t += step
