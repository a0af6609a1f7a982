"""Gateway settings, read from the environment (all optional)."""

from __future__ import annotations

from dataclasses import dataclass

import environ
from django.conf import settings

_env = environ.Env()


@dataclass(frozen=True)
class GatewayConf:
    prefix: str
    # Quota leases: a connection's lease expires unless renewed; renewals every ttl/3.
    lease_ttl_s: float
    # Circuit breaker around Redis.
    breaker_failures: int
    breaker_reset_s: float
    redis_timeout_s: float
    # Defaults for connections that have no venue (supplier topics only).
    default_heartbeat_s: float
    default_replay: int
    # A connection that sent nothing for heartbeat * this factor + grace is dead.
    dead_factor: float
    dead_grace_s: float
    # Frames larger than this get an error frame (Daphne itself closes at 1 MiB with 1009).
    max_frame_bytes: int
    stats_interval_s: float
    stats_ttl_s: float
    profile_ttl_s: float
    # Seconds a token -> supplier grant is reused by handshakes when no revocation
    # message arrives (apps.realtime.tokens); 0 looks every handshake up.
    auth_ttl_s: float
    # wedsync_gateway_error_rate is 0 below this many frames per second: one failure over
    # a handful of frames is no rate to page anyone about.
    error_rate_min_frames_per_s: float
    # Reconnect backoff told to clients (hello) where no venue profile says otherwise, and
    # its ceiling; on a restart (SIGTERM) connections are closed with 1012 spread over
    # `restart_spread_s`, each told to come back within `restart_reconnect_max_ms`.
    reconnect_min_ms: int
    reconnect_max_ms: int
    restart_spread_s: float
    restart_reconnect_max_ms: int


def conf() -> GatewayConf:
    return GatewayConf(
        prefix=f"{settings.REDIS_PREFIX}:rt",
        lease_ttl_s=_env.float("GATEWAY_LEASE_TTL", default=30.0),
        breaker_failures=_env.int("GATEWAY_BREAKER_FAILURES", default=3),
        breaker_reset_s=_env.float("GATEWAY_BREAKER_RESET", default=1.0),
        redis_timeout_s=_env.float("GATEWAY_REDIS_TIMEOUT", default=1.0),
        default_heartbeat_s=_env.float("GATEWAY_HEARTBEAT", default=25.0),
        default_replay=_env.int("GATEWAY_DEFAULT_REPLAY", default=200),
        dead_factor=_env.float("GATEWAY_DEAD_FACTOR", default=2.0),
        dead_grace_s=_env.float("GATEWAY_DEAD_GRACE", default=5.0),
        max_frame_bytes=_env.int("GATEWAY_MAX_FRAME_BYTES", default=64 * 1024),
        stats_interval_s=_env.float("GATEWAY_STATS_INTERVAL", default=1.0),
        stats_ttl_s=_env.float("GATEWAY_STATS_TTL", default=10.0),
        profile_ttl_s=_env.float("GATEWAY_PROFILE_TTL", default=30.0),
        auth_ttl_s=_env.float("GATEWAY_AUTH_TTL", default=10.0),
        error_rate_min_frames_per_s=_env.float("GATEWAY_ERROR_RATE_MIN_FRAMES", default=5.0),
        reconnect_min_ms=_env.int("GATEWAY_RECONNECT_MIN_MS", default=500),
        reconnect_max_ms=_env.int("GATEWAY_RECONNECT_MAX_MS", default=20_000),
        restart_spread_s=_env.float("GATEWAY_RESTART_SPREAD", default=3.0),
        restart_reconnect_max_ms=_env.int("GATEWAY_RESTART_RECONNECT_MAX_MS", default=5_000),
    )
