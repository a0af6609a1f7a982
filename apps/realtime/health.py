"""health_report(): the gateway across every process (each writes its stats with a TTL)."""

from __future__ import annotations

import logging
import time
from collections import Counter

from apps.realtime.breaker import redis_breaker
from apps.realtime.models import OutboxMessage
from apps.realtime.store import get_store

log = logging.getLogger(__name__)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def _named(per_supplier: Counter[str]) -> list[dict]:
    """Connections per supplier with the supplier's name and quota, busiest first: an
    operator knows "Lumière Photography", not supplier 17."""
    from apps.weddings.models import Supplier

    ids = [int(k) for k in per_supplier if str(k).isdigit()]
    known = {
        str(pk): (name, quota)
        for pk, name, quota in Supplier.objects.filter(pk__in=ids).values_list(
            "pk", "name", "max_connections"
        )
    }
    return [
        {
            "id": key,
            "name": known.get(str(key), (None, None))[0],
            "connections": n,
            "max_connections": known.get(str(key), (None, None))[1],
        }
        for key, n in per_supplier.most_common()
    ]


def health_report() -> dict:
    store = get_store()
    error = None
    try:
        procs = store.read_proc_stats()
        in_rate = store.publish_rate()
    except Exception as exc:  # Redis down: say so, still report what PostgreSQL knows
        procs, in_rate, error = [], None, f"{type(exc).__name__}: {exc}"[:200]
    per_supplier: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    breakers: dict[str, dict[str, str]] = {}
    for proc in procs:
        per_supplier.update(proc.get("per_supplier", {}))
        errors.update(proc.get("errors", {}))
        latencies.extend(proc.get("latency_ms", []))
        breakers[proc["proc"]] = proc.get("breaker", {})

    def total(key: str) -> float:
        return sum(proc.get(key, 0) for proc in procs)

    any_open = any(state != "closed" for b in breakers.values() for state in b.values())
    local_state = redis_breaker.state
    return {
        "generated_at": time.time(),
        "processes": len(procs),
        "connections": int(total("connections")),
        "connections_per_supplier": dict(per_supplier.most_common()),
        "suppliers": _named(per_supplier),
        "subscriptions": int(total("subscriptions")),
        "messages_in_per_s": in_rate,
        "messages_out_per_s": round(total("deliveries_per_s"), 2),
        # Error frames answering clients' protocol mistakes (bad JSON, forbidden topics...).
        "errors_per_s": round(total("errors_per_s"), 2),
        # The gateway's own failures (messages lost to a client, failed dispatches).
        "server_errors_per_s": round(total("server_errors_per_s"), 2),
        "latency_ms": {
            "p50": _percentile(latencies, 50),
            "p95": _percentile(latencies, 95),
            "p99": _percentile(latencies, 99),
            "samples": len(latencies),
        },
        "quota_rejections": int(total("quota_rejections")),
        "replays_served": int(total("replays")),
        "replayed_messages": int(total("replayed_messages")),
        "replay_gaps": int(total("replay_gaps")),
        "dead_connections_closed": int(total("dead_closed")),
        "frame_errors": dict(errors),
        "breakers": breakers,
        "breaker_open": any_open or local_state != "closed",
        "breaker_here": local_state,
        "outbox_pending": OutboxMessage.objects.count(),
        "store_error": error,
        "per_process": [
            {k: p.get(k) for k in ("proc", "connections", "subscriptions", "deliveries_per_s")}
            for p in procs
        ],
    }
