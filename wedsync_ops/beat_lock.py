"""One active celery beat at a time, with standbys that take over (full stack only).

Two beats would send every periodic task twice. Each beat, as it starts, must hold a
Redis lease (`<prefix>:beat:leader`, SET NX PX); the others wait as standbys and retry.
The leader renews the lease every third of its TTL; if it cannot (Redis gone for longer
than the TTL, or another beat took over), it exits so its supervisor restarts it as a
standby rather than run on as a second leader. A SIGKILLed leader stops renewing and a
standby takes over within the TTL.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)

TTL_SECONDS = float(os.environ.get("BEAT_LEADER_TTL", "15"))

# Renew only while we still hold it: compare-and-extend in one step.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def leader_key() -> str:
    return f"{settings.REDIS_PREFIX}:beat:leader"


def _client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def acquire(identity: str, ttl: float = TTL_SECONDS, poll: float = 1.0) -> None:
    """Block until this process is the leader."""
    announced = False
    while True:
        try:
            if _client().set(leader_key(), identity, nx=True, px=int(ttl * 1000)):
                log.warning("beat leader: %s", identity)
                return
            if not announced:
                log.warning("beat standby: %s waits for the leader lease", identity)
                announced = True
        except Exception as exc:  # Redis away: keep waiting, never lead without the lease
            log.warning("beat standby: cannot reach Redis (%s)", exc)
        time.sleep(poll)


def _renew_forever(identity: str, ttl: float) -> None:
    client = _client()
    renew = client.register_script(_RENEW)
    last_ok = time.monotonic()
    while True:
        time.sleep(ttl / 3)
        try:
            if renew(keys=[leader_key()], args=[identity, int(ttl * 1000)]):
                last_ok = time.monotonic()
                continue
            log.error("beat leader lease lost to another beat; exiting")
        except Exception as exc:
            if time.monotonic() - last_ok < ttl:
                continue  # a blip shorter than the lease: we still hold it
            log.error("beat leader lease not renewed for %.0fs (%s); exiting", ttl, exc)
        os._exit(3)


def on_beat_init(sender=None, **kwargs) -> None:
    if not settings.REDIS_URL:
        return  # embedded default: no beat process at all
    identity = f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"
    acquire(identity)
    threading.Thread(
        target=_renew_forever, args=(identity, TTL_SECONDS), name="beat-lease", daemon=True
    ).start()
