"""The load observed now, per pool, from the monitor's latest samples."""

from __future__ import annotations

from apps.scaling.forecast import CONNECTIONS_METRIC, MESSAGES_METRIC

METRIC_BY_POOL = {"web": CONNECTIONS_METRIC, "worker": MESSAGES_METRIC}


def current_load(pool: str) -> float | None:
    """Sum over series of the latest value; None when nothing is known (never a guess)."""
    try:
        from apps.monitoring.query import latest
    except ImportError:
        return None
    rows = latest(METRIC_BY_POOL[pool])
    if not rows:
        return None
    return float(sum(r["value"] for r in rows))
