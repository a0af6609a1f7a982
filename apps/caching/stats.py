"""Counters and latency histograms of one process, and their merge across processes.

Latencies go into log-spaced buckets (four per doubling, from 0.25 us), so the
histograms of several processes add up and percentiles come from the sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

BUCKETS = 112  # 0.25 us * 2 ** (112 / 4) ~ 67 s
_BASE_NS = 250.0


def bucket_of(ns: float) -> int:
    if ns <= _BASE_NS:
        return 0
    return min(int(4 * math.log2(ns / _BASE_NS)) + 1, BUCKETS - 1)


def bucket_upper_us(index: int) -> float:
    return _BASE_NS * 2 ** (index / 4) / 1000.0


def percentiles(counts: list[int], qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> dict[str, float]:
    total = sum(counts)
    out: dict[str, float] = {}
    for q in qs:
        name = f"p{round(q * 100)}"
        if not total:
            out[name] = None  # type: ignore[assignment]
            continue
        target = q * total
        running = 0
        for index, count in enumerate(counts):
            running += count
            if running >= target:
                out[name] = round(bucket_upper_us(index), 3)
                break
    return out


@dataclass
class TierCounters:
    hits: int = 0
    misses: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def observe(self, ns: float) -> None:
        self.latency[bucket_of(ns)] += 1

    def as_dict(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "latency": list(self.latency)}


TIERS = ("l1", "l2", "load")
COUNTERS = (
    "l1_expired",
    "evictions",
    "rejections",
    "redis_errors",
    "load_errors",
    "stale_served",
    "lock_waits",
    "l1_flushes",
    "invalidations_sent",
    "invalidations_received",
    "raw_bytes",
    "stored_bytes",
    "compressed_values",
    "stored_values",
)


def summarize(snapshots: list[dict]) -> dict:
    """Sum per-process snapshots and derive ratios and percentiles."""
    tiers = {name: {"hits": 0, "misses": 0, "latency": [0] * BUCKETS} for name in TIERS}
    counters = dict.fromkeys(COUNTERS, 0)
    l1_bytes = l1_entries = l1_capacity = 0
    breaker_open = 0
    for snap in snapshots:
        for name in TIERS:
            tier = snap.get("tiers", {}).get(name)
            if not tier:
                continue
            tiers[name]["hits"] += tier.get("hits", 0)
            tiers[name]["misses"] += tier.get("misses", 0)
            for i, count in enumerate(tier.get("latency", [])[:BUCKETS]):
                tiers[name]["latency"][i] += count
        for name in COUNTERS:
            counters[name] += snap.get("counters", {}).get(name, 0)
        l1_bytes += snap.get("l1_bytes", 0)
        l1_entries += snap.get("l1_entries", 0)
        l1_capacity += snap.get("l1_max_bytes", 0)
        breaker_open += 1 if snap.get("breaker_open") else 0
    out: dict = {"processes": len(snapshots), "tiers": {}}
    for name in ("l1", "l2"):
        t = tiers[name]
        lookups = t["hits"] + t["misses"]
        out["tiers"][name] = {
            "hits": t["hits"],
            "misses": t["misses"],
            "hit_ratio": round(t["hits"] / lookups, 4) if lookups else None,
            "latency_us": percentiles(t["latency"]),
        }
    l1, l2 = tiers["l1"], tiers["l2"]
    lookups = l1["hits"] + l1["misses"]
    total_hits = l1["hits"] + l2["hits"]
    out["tiers"]["total"] = {
        "hits": total_hits,
        "misses": lookups - total_hits,
        "hit_ratio": round(total_hits / lookups, 4) if lookups else None,
    }
    out["tiers"]["l1"].update(
        bytes=l1_bytes,
        entries=l1_entries,
        max_bytes=l1_capacity,
        evictions=counters["evictions"],
        rejections=counters["rejections"],
    )
    out["loads"] = {
        "count": tiers["load"]["hits"],
        "errors": counters["load_errors"],
        "latency_us": percentiles(tiers["load"]["latency"]),
    }
    raw, stored = counters["raw_bytes"], counters["stored_bytes"]
    out["compression"] = {
        "ratio": round(raw / stored, 3) if stored else None,
        "raw_bytes": raw,
        "stored_bytes": stored,
        "compressed_values": counters["compressed_values"],
        "stored_values": counters["stored_values"],
    }
    out["errors"] = {"redis": counters["redis_errors"], "loader": counters["load_errors"]}
    out["invalidation"] = {
        "sent": counters["invalidations_sent"],
        "received": counters["invalidations_received"],
        "l1_flushes": counters["l1_flushes"],
    }
    out["stampede"] = {
        "lock_waits": counters["lock_waits"],
        "stale_served": counters["stale_served"],
    }
    out["breaker_open_processes"] = breaker_open
    return out
