"""The system's own Prometheus metrics, served at /metrics.

Multiprocess-safe: when PROMETHEUS_MULTIPROC_DIR is set (the full stack sets it
in the Procfile), every Daphne and Celery process writes its own files and
/metrics merges them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

gateway_connections = Gauge(
    "wedsync_gateway_connections", "Open gateway WebSocket connections", multiprocess_mode="livesum"
)
gateway_messages_in = Counter("wedsync_gateway_messages_in", "Messages published to the gateway")
gateway_deliveries = Counter("wedsync_gateway_deliveries", "Frames delivered to gateway clients")
gateway_quota_rejections = Counter(
    "wedsync_gateway_quota_rejections", "Connections refused for being over quota"
)
gateway_delivery_latency = Histogram(
    "wedsync_gateway_delivery_latency_seconds",
    "Publish to socket write latency",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
gateway_breaker_open = Gauge(
    "wedsync_gateway_breaker_open",
    "1 while the Redis circuit breaker is open",
    ["breaker"],
    multiprocess_mode="max",
)
cache_requests = Counter(
    "wedsync_cache_requests", "Cache lookups by tier and result", ["tier", "result"]
)
alerts_active = Gauge(
    "wedsync_alerts", "Alerts by state", ["state", "severity"], multiprocess_mode="mostrecent"
)
desired_capacity = Gauge(
    "wedsync_desired_capacity",
    "Capacity units the scaling manager wants",
    ["pool"],
    multiprocess_mode="mostrecent",
)
current_capacity = Gauge(
    "wedsync_current_capacity",
    "Capacity units currently running",
    ["pool"],
    multiprocess_mode="mostrecent",
)
ingest_samples = Counter("wedsync_ingest_samples", "Metric samples accepted")
ingest_rejected_batches = Counter("wedsync_ingest_rejected_batches", "Metric batches refused")


def exposition() -> tuple[bytes, str]:
    if MULTIPROC:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
