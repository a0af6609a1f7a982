"""The load observed now, per pool, from the monitor's latest samples."""

from __future__ import annotations

import time

from apps.scaling import conf
from apps.scaling.forecast import CONNECTIONS_METRIC, MESSAGES_METRIC

METRIC_BY_POOL = {"web": CONNECTIONS_METRIC, "worker": MESSAGES_METRIC}


def current_load(pool: str, now: float | None = None) -> float | None:
    """Sum over series (one per gateway process) of each one's fresh latest value.

    None when nothing fresh is known: the policy then never scales down (it does not
    guess), while the forecast may still scale up.
    """
    from apps.monitoring.query import latest

    now = now if now is not None else time.time()
    oldest = now - conf.observation_max_age_seconds()
    rows = [r for r in latest(METRIC_BY_POOL[pool]) if r["ts"] >= oldest]
    if not rows:
        return None
    return float(sum(r["value"] for r in rows))
