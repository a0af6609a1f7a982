"""The load observed now, per pool: the latest value of each gateway process.

The monitor stores every sample in PostgreSQL; asking it for the latest values costs a
query per decision. So every committed ingest batch (the monitor's samples_ingested
signal) also writes the newest value of each watched series into a Redis hash, and a
decision reads that hash in one round trip. Without Redis (embedded default), or when the
hash is empty (Redis restarted), the monitor's latest() answers instead.
"""

from __future__ import annotations

import json
import logging
import time
from functools import cache

from django.conf import settings

from apps.scaling import conf
from apps.scaling.forecast import CONNECTIONS_METRIC, MESSAGES_METRIC

log = logging.getLogger(__name__)

METRIC_BY_POOL = {"web": CONNECTIONS_METRIC, "worker": MESSAGES_METRIC}
WATCHED = frozenset(METRIC_BY_POOL.values())
KEEP_SECONDS = 24 * 3600

# Keep the newer of two writes: ingest batches may commit out of order.
_NEWER = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if (not old) or tonumber(string.match(old, '^(%S+)')) < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def _key(metric: str) -> str:
    return f"{settings.REDIS_PREFIX}:scaling:observed:{metric}"


def hash_key(pool: str) -> str:
    """The Redis hash holding the pool's observed load (a decision reads it in the
    same pipeline as its other inputs)."""
    return _key(METRIC_BY_POOL[pool])


def remember_samples(sender=None, samples=(), **_: object) -> None:
    """samples_ingested receiver: newest value per watched series into Redis."""
    if not settings.REDIS_URL:
        return
    rows = [s for s in samples if s[0] in WATCHED]
    if not rows:
        return
    client = _redis()
    script = client.register_script(_NEWER)
    with client.pipeline(transaction=False) as pipe:
        for name, labels, ts, value in rows:
            field = json.dumps(labels, sort_keys=True, separators=(",", ":"))
            script(
                keys=[_key(name)],
                args=[field, repr(float(ts)), repr(float(value)), KEEP_SECONDS],
                client=pipe,
            )
        try:
            pipe.execute()
        except Exception:  # a Redis blip: decisions fall back to the monitor's query
            log.warning("could not record observed load in Redis", exc_info=True)


def _from_redis(metric: str) -> list[tuple[float, float]] | None:
    try:
        raw = _redis().hgetall(_key(metric))
    except Exception:
        return None
    return parse_hash(raw)


def parse_hash(raw: dict | None) -> list[tuple[float, float]] | None:
    """(ts, value) rows of the hash `remember_samples` writes; None when it is empty."""
    if not raw:
        return None
    out = []
    for value in raw.values():
        ts, val = value.split()
        out.append((float(ts), float(val)))
    return out


def _from_monitor(metric: str) -> list[tuple[float, float]]:
    from apps.monitoring.query import latest

    return [(float(r["ts"]), float(r["value"])) for r in latest(metric)]


def current_load(pool: str, now: float | None = None, raw: dict | None = None) -> float | None:
    """Sum over series (one per gateway process) of each one's fresh latest value.

    None when nothing fresh is known: the policy then never scales down (it does not
    guess), while the forecast may still scale up. `raw`: the Redis hash, when the
    caller already read it (a decision reads it with its other inputs).
    """
    metric = METRIC_BY_POOL[pool]
    if raw is not None:
        rows = parse_hash(raw)
    else:
        rows = _from_redis(metric) if settings.REDIS_URL else None
    if rows is None:
        rows = _from_monitor(metric)
    now = now if now is not None else time.time()
    oldest = now - conf.observation_max_age_seconds()
    fresh = [value for ts, value in rows if ts >= oldest]
    return float(sum(fresh)) if fresh else None


def forget_observations() -> None:
    if settings.REDIS_URL:
        _redis().delete(*(_key(m) for m in WATCHED))
