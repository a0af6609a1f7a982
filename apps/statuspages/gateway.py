"""What the realtime gateway knows about a wedding's suppliers, read the way the gateway
writes it: each open connection holds a lease in the supplier's ZSET (apps.realtime.store),
scored by its expiry and renewed with every heartbeat round. A closed connection drops its
lease at once; one whose process died expires with its lease's TTL."""

from __future__ import annotations

import logging
import time

from apps.realtime.store import MemoryStore, get_store

log = logging.getLogger(__name__)


class GatewayUnknown(Exception):
    """Redis did not answer: the gateway's state cannot be read."""


def supplier_connections(supplier_ids: list[int]) -> dict[int, int]:
    """{supplier id: live connections} across every gateway process."""
    if not supplier_ids:
        return {}
    store = get_store()
    if isinstance(store, MemoryStore):  # embedded default: one process, leases in memory
        now = time.time()
        return {
            sid: sum(1 for expiry in store.leases.get(sid, {}).values() if expiry > now)
            for sid in supplier_ids
        }
    # Scores are expiry times in ms on Redis' clock; this machine's clock is close enough
    # for "still valid" (a lease is renewed a third of its TTL before it runs out).
    now_ms = int(time.time() * 1000)
    try:
        pipe = store.sync.pipeline(transaction=False)
        for sid in supplier_ids:
            pipe.zcount(store.k_lease(sid), now_ms, "+inf")
        counts = pipe.execute()
    except Exception as exc:
        raise GatewayUnknown(str(exc)) from exc
    return {sid: int(n) for sid, n in zip(supplier_ids, counts, strict=True)}


def breaker_open() -> bool:
    """True when any gateway process reports its Redis circuit breaker not closed."""
    try:
        procs = get_store().read_proc_stats()
    except Exception as exc:
        raise GatewayUnknown(str(exc)) from exc
    return any(
        state != "closed" for proc in procs for state in (proc.get("breaker") or {}).values()
    )
