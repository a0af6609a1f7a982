"""Prometheus figures of the cache. The shared `cache_requests` counter lives in
apps.core.metrics; these are the cache's own gauges. The hot path only bumps
plain integers: the background thread turns their deltas into metric updates."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from apps.core.metrics import cache_requests

hit_ratio = Gauge(
    "wedsync_cache_hit_ratio_process",
    "Cache hit ratio of one process since it started, by tier",
    ["tier"],
    multiprocess_mode="mostrecent",
)
cache_bytes = Gauge(
    "wedsync_cache_l1_bytes", "Bytes held in the in-process tier", multiprocess_mode="livesum"
)
evictions = Counter("wedsync_cache_evictions", "Entries evicted from the in-process tier")
errors = Counter("wedsync_cache_errors", "Cache errors by kind", ["kind"])
compression_ratio = Gauge(
    "wedsync_cache_compression_ratio",
    "Uncompressed / stored bytes of values written to Redis",
    multiprocess_mode="mostrecent",
)


def export(snap: dict, sent: dict) -> None:
    """Add what changed since the last call (`sent` remembers it) to the metrics."""

    def delta(name: str, value: int) -> int:
        previous = sent.get(name, 0)
        sent[name] = value
        return max(value - previous, 0)

    tiers = snap["tiers"]
    for tier in ("l1", "l2"):
        for result, field in (("hit", "hits"), ("miss", "misses")):
            amount = delta(f"{tier}.{field}", tiers[tier][field])
            if amount:
                cache_requests.labels(tier=tier, result=result).inc(amount)
    l1, l2 = tiers["l1"], tiers["l2"]
    lookups = l1["hits"] + l1["misses"]
    if lookups:
        hit_ratio.labels(tier="l1").set(l1["hits"] / lookups)
        hit_ratio.labels(tier="total").set((l1["hits"] + l2["hits"]) / lookups)
    if l2["hits"] + l2["misses"]:
        hit_ratio.labels(tier="l2").set(l2["hits"] / (l2["hits"] + l2["misses"]))
    cache_bytes.set(snap["l1_bytes"])
    counters = snap["counters"]
    amount = delta("evictions", counters["evictions"])
    if amount:
        evictions.inc(amount)
    for kind in ("redis_errors", "load_errors"):
        amount = delta(kind, counters[kind])
        if amount:
            errors.labels(kind=kind.removesuffix("_errors")).inc(amount)
    if counters["stored_bytes"]:
        compression_ratio.set(counters["raw_bytes"] / counters["stored_bytes"])
