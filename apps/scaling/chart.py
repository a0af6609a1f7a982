"""Series for the page's chart: forecast vs actual vs capacity (web pool, connections)."""

from __future__ import annotations

from datetime import datetime

from apps.scaling import forecast, services
from apps.scaling.models import Decision, ScalingPolicy


def page_series(start: datetime, end: datetime, pool: str = "web") -> dict:
    policy = ScalingPolicy.objects.filter(pool=pool).first()
    hours = max(1, int((forecast.hour_floor(end) - forecast.hour_floor(start)) // forecast.HOUR))
    points = forecast.hourly(start, hours, baselines=services.cached_baselines(end))
    rows = list(
        Decision.objects.filter(pool=pool, decided_at__gte=start, decided_at__lte=end)
        .order_by("decided_at", "id")
        .values_list("decided_at", "inputs", "current_units", "desired_units", "outcome")
    )
    per_unit = policy.capacity_per_unit if policy else 0.0
    target = policy.target_utilisation_high if policy else 0.75
    actual_x, actual_y, cap_x, cap_y, target_y = [], [], [], [], []
    for at, inputs, current, desired, outcome in rows:
        if inputs.get("load") is not None:
            actual_x.append(at.isoformat())
            actual_y.append(inputs["load"])
        units = desired if outcome in ("applied", "unchanged") else current
        cap_x.append(at.isoformat())
        cap_y.append(units * per_unit)
        target_y.append(units * per_unit * target)
    return {
        "pool": pool,
        "forecast": {
            "x": [p.at.isoformat() for p in points],
            "y": [round(p.connections, 1) for p in points],
            "weddings": [round(p.wedding_connections, 1) for p in points],
        },
        "actual": {"x": actual_x, "y": actual_y},
        "capacity": {"x": cap_x, "y": cap_y, "target": target_y},
    }
