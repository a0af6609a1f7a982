"""Settings of the cache, read from the environment (defaults suit the demo and tests)."""

from __future__ import annotations

from dataclasses import dataclass

import environ
from django.conf import settings

env = environ.Env()


@dataclass(frozen=True)
class CacheConfig:
    l1_max_bytes: int
    # Base TTL when the caller gives none; hot keys get up to `ttl_cap` (dynamic TTL).
    default_ttl: float
    ttl_cap: float
    compress_threshold: int
    compress_level: int
    # Stampede protection: a loader holds the key's Redis lock at most this long;
    # the others wait up to `lock_wait` for its value before loading themselves.
    lock_ttl: float
    lock_wait: float
    # Redis client: short timeouts so a sick Redis costs milliseconds, not seconds.
    socket_timeout: float
    breaker_failures: int
    breaker_cooldown: float
    stats_interval: float


def load() -> CacheConfig:
    return CacheConfig(
        l1_max_bytes=env.int("CACHE_L1_MAX_BYTES", default=64 * 1024 * 1024),
        default_ttl=env.float("CACHE_DEFAULT_TTL", default=300.0),
        ttl_cap=env.float("CACHE_TTL_CAP", default=3600.0),
        compress_threshold=env.int("CACHE_COMPRESS_THRESHOLD", default=1024),
        compress_level=env.int("CACHE_COMPRESS_LEVEL", default=3),
        lock_ttl=env.float("CACHE_LOCK_TTL", default=5.0),
        lock_wait=env.float("CACHE_LOCK_WAIT", default=2.0),
        socket_timeout=env.float("CACHE_SOCKET_TIMEOUT", default=0.25),
        breaker_failures=env.int("CACHE_BREAKER_FAILURES", default=3),
        breaker_cooldown=env.float("CACHE_BREAKER_COOLDOWN", default=2.0),
        stats_interval=env.float("CACHE_STATS_INTERVAL", default=2.0),
    )


def redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""


def redis_prefix() -> str:
    return getattr(settings, "REDIS_PREFIX", "wso")
