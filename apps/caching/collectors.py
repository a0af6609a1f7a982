"""Samples for the monitor's built-in collection (apps.monitoring calls collect())."""

from __future__ import annotations

from apps.caching.service import aggregate_stats


def collect() -> list[dict]:
    """Hit ratio and bytes per tier and evictions, summed across processes."""
    stats = aggregate_stats()
    tiers = stats["tiers"]
    samples: list[dict] = []
    for tier in ("l1", "l2", "total"):
        ratio = tiers[tier].get("hit_ratio")
        if ratio is not None:
            samples.append(
                {"name": "wedsync_cache_hit_ratio", "labels": {"tier": tier}, "value": ratio}
            )
    samples.append(
        {"name": "wedsync_cache_bytes", "labels": {"tier": "l1"}, "value": tiers["l1"]["bytes"]}
    )
    if tiers["l2"].get("bytes") is not None:
        samples.append(
            {"name": "wedsync_cache_bytes", "labels": {"tier": "l2"}, "value": tiers["l2"]["bytes"]}
        )
    samples.append(
        {"name": "wedsync_cache_evictions_total", "labels": {}, "value": tiers["l1"]["evictions"]}
    )
    return samples
