"""Per-client-IP limits for the public /status/ paths, counted in the default cache (Redis in
the full stack, so every process shares the counts).

Two budgets per minute: requests of any kind, and misses (a token that resolves to nothing).
An IP over its miss budget gets 429 for every /status/ request until the minute is over, so
guessing tokens costs a guesser a minute per handful of tries.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from apps.statuspages import conf

WINDOW = 60


def _key(kind: str, ip: str, now: float) -> str:
    return f"statuspages:rl:{kind}:{ip}:{int(now // WINDOW)}"


def _count(key: str) -> int:
    cache.add(key, 0, WINDOW + 5)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW + 5)
        return 1


def retry_after(now: float | None = None) -> int:
    now = time.time() if now is None else now
    return max(1, int(WINDOW - now % WINDOW))


def allow(ip: str, now: float | None = None) -> bool:
    """Count one request from `ip`; False when it is over either budget."""
    now = time.time() if now is None else now
    misses = cache.get(_key("miss", ip, now)) or 0
    if misses >= conf.get("MISSES_PER_MINUTE"):
        return False
    return _count(_key("req", ip, now)) <= conf.get("RATE_PER_MINUTE")


def miss(ip: str, now: float | None = None) -> None:
    """Count a token that resolved to nothing."""
    _count(_key("miss", ip, time.time() if now is None else now))


def client_ip(meta_or_scope: dict) -> str:
    """REMOTE_ADDR of a request, or the client address of an ASGI scope."""
    if "REMOTE_ADDR" in meta_or_scope:
        return meta_or_scope.get("REMOTE_ADDR") or "unknown"
    client = meta_or_scope.get("client") or ("unknown", 0)
    return str(client[0])
