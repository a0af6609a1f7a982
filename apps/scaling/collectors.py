"""Samples for the monitor: capacity desired/current per pool and the forecast now."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.scaling import context
from apps.scaling.models import Decision, PoolState, ScalingPolicy


def collect() -> list[dict]:
    samples: list[dict] = []
    states = {s.pool: s.current_units for s in PoolState.objects.all()}
    for policy in ScalingPolicy.objects.filter(enabled=True):
        last = (
            Decision.objects.filter(pool=policy.pool)
            .order_by("-decided_at", "-id")
            .values_list("desired_units", flat=True)
            .first()
        )
        current = states.get(policy.pool, policy.baseline_units)
        desired = last if last is not None else current
        labels = {"pool": policy.pool}
        samples.append({"name": "wedsync_capacity_desired", "labels": labels, "value": desired})
        samples.append({"name": "wedsync_capacity_current", "labels": labels, "value": current})
    now = timezone.now()
    # The cached decision context: this runs every 1-5 s and must not re-read the calendar.
    point = context.decision_context(now, timedelta(0)).points[0]
    samples.append(
        {"name": "wedsync_forecast_connections", "labels": {}, "value": point.connections}
    )
    return samples
