"""Gateway figures for the monitor's collection tick (metric names fixed in the brief)."""

from __future__ import annotations

from apps.realtime.health import health_report


def collect() -> list[dict]:
    report = health_report()
    samples = [
        {"name": "wedsync_gateway_connections", "labels": {}, "value": report["connections"]},
        {"name": "wedsync_gateway_subscriptions", "labels": {}, "value": report["subscriptions"]},
        {
            "name": "wedsync_gateway_messages_in_per_s",
            "labels": {},
            "value": report["messages_in_per_s"] or 0.0,
        },
        {
            "name": "wedsync_gateway_messages_out_per_s",
            "labels": {},
            "value": report["messages_out_per_s"],
        },
        {
            "name": "wedsync_gateway_breaker_open",
            "labels": {"breaker": "redis"},
            "value": 1.0 if report["breaker_open"] else 0.0,
        },
        {
            "name": "wedsync_gateway_quota_rejections_total",
            "labels": {},
            "value": report["quota_rejections"],
        },
    ]
    frames = report["messages_out_per_s"] or 0.0
    errors = report["errors_per_s"] or 0.0
    samples.append(
        {
            "name": "wedsync_gateway_error_rate",
            "labels": {},
            # Error frames per second as a share of all frames sent (0 when idle).
            "value": round(errors / max(1.0, errors + frames), 4),
        }
    )
    for quantile in ("p50", "p95", "p99"):
        value = report["latency_ms"][quantile]
        if value is not None:
            samples.append(
                {
                    "name": "wedsync_gateway_latency_ms",
                    "labels": {"quantile": quantile},
                    "value": value,
                }
            )
    return samples
