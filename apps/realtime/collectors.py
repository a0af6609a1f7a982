"""Gateway figures for the monitor's collection tick (metric names fixed in the brief)."""

from __future__ import annotations

from apps.realtime.conf import conf
from apps.realtime.health import health_report


def error_rate(server_errors_per_s: float, frames_per_s: float, min_frames_per_s: float) -> float:
    """The gateway's own failures as a share of what it handled, 0 below a minimum volume.

    Client protocol errors are not in it (a supplier app's bad frame is not an outage; they
    are counted in wedsync_gateway_client_errors_per_s), and over a handful of frames a
    single failure would read as 100 % and page on-call."""
    handled = server_errors_per_s + frames_per_s
    if handled < min_frames_per_s or handled <= 0:
        return 0.0
    return round(server_errors_per_s / handled, 4)


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
    server = report.get("server_errors_per_s") or 0.0
    minimum = conf().error_rate_min_frames_per_s
    samples.append(
        {
            "name": "wedsync_gateway_error_rate",
            "labels": {},
            "value": error_rate(server, frames, minimum),
        }
    )
    samples.append(
        {
            "name": "wedsync_gateway_client_errors_per_s",
            "labels": {},
            "value": report["errors_per_s"] or 0.0,
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
