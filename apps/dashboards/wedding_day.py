"""The Wedding Day dashboard: what ops watch on a Saturday in June."""

from __future__ import annotations

from apps.dashboards.models import Dashboard, Widget

SLUG = "wedding-day"


def _q(name: str, agg: str = "avg", label: str = "", **matchers: str) -> dict:
    q = {"name": name, "matchers": matchers, "agg": agg}
    if label:
        q["label"] = label
    return q


def _t(warn: float, crit: float, direction: str = "above") -> dict:
    return {"warn": warn, "crit": crit, "direction": direction}


WIDGETS: list[dict] = [
    # Row 1: the four numbers that matter at a glance.
    # Tiles bound to an alert rule ("rule") show the rule's own value, window and thresholds
    # (apps.alerts.tiles); a tile no rule reads says plainly what it shows ("caption").
    {"kind": "metric", "title": "Gateway connections", "width": 3, "height": 2,
     "options": {"rule": "Gateway connections near quota"},
     "queries": [_q("wedsync_gateway_connections", "last")], "thresholds": _t(4000, 4500)},
    {"kind": "metric", "title": "Delivery latency p95", "width": 3, "height": 2, "unit": "ms",
     "options": {"caption": "latest p95 sample; the latency alert reads p99 (1-min average)"},
     "queries": [_q("wedsync_gateway_latency_ms", "last", quantile="p95")],
     "thresholds": _t(150, 300)},
    {"kind": "metric", "title": "Error rate", "width": 3, "height": 2, "unit": "%",
     "options": {"scale": 100, "rule": "Gateway error rate"},
     "queries": [_q("wedsync_gateway_error_rate", "last")], "thresholds": _t(0.01, 0.05)},
    {"kind": "metric", "title": "Cache hit ratio", "width": 3, "height": 2, "unit": "%",
     "options": {"scale": 100, "rule": "Cache hit ratio low"},
     "queries": [_q("wedsync_cache_hit_ratio", "last", tier="total")],
     "thresholds": _t(0.8, 0.6, "below")},
    # Row 2: who is getting married right now, how fast their updates arrive, what is wrong.
    {"kind": "status", "title": "Live weddings now", "width": 3, "height": 3,
     "options": {"section": "weddings"}},
    {"kind": "chart", "title": "Delivery latency p50 / p95 / p99", "width": 6, "height": 3,
     "unit": "ms", "thresholds": _t(150, 300),
     "queries": [_q("wedsync_gateway_latency_ms", "avg")]},
    {"kind": "alert", "title": "Active alerts", "width": 3, "height": 3},
    # Row 3: service health, and the big red buttons.
    {"kind": "status", "title": "Services", "width": 6, "height": 2},
    {"kind": "alert", "title": "Emergency", "width": 6, "height": 2,
     "options": {"section": "emergency"}},
    # Row 4: load, capacity and the rest.
    {"kind": "chart", "title": "Gateway connections", "width": 3, "height": 3,
     "queries": [_q("wedsync_gateway_connections", "max", label="connections"),
                 _q("wedsync_forecast_connections", "avg", label="forecast")]},
    {"kind": "chart", "title": "Capacity: now vs desired", "width": 3, "height": 3,
     "queries": [_q("wedsync_capacity_current", "last", label="current"),
                 _q("wedsync_capacity_desired", "last", label="desired")]},
    {"kind": "chart", "title": "Live weddings by region", "width": 3, "height": 3,
     "queries": [_q("wedsync_weddings_live", "max")], "options": {"stack": True}},
    {"kind": "chart", "title": "Error rate and cache hit ratio", "width": 3, "height": 3,
     "queries": [_q("wedsync_gateway_error_rate", "avg", label="error rate"),
                 _q("wedsync_cache_hit_ratio", "avg", label="cache hits", tier="total")]},
]  # fmt: skip


def ensure_wedding_day() -> tuple[Dashboard, bool]:
    """Create the dashboard if missing; an existing one (maybe edited by ops) is kept."""
    dashboard, created = Dashboard.objects.get_or_create(
        slug=SLUG,
        defaults={
            "name": "Wedding Day",
            "description": "Live weddings, delivery, cache, capacity and alerts on one screen.",
            "shared": True,
            "default_range": "6h",
            "tags": ["wedding-day", "ops"],
        },
    )
    if created:
        Widget.objects.bulk_create(
            Widget(dashboard=dashboard, position=i, **spec) for i, spec in enumerate(WIDGETS)
        )
    return dashboard, created
