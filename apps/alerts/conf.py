"""Settings of the alerts app, read from the environment (with settings.py overrides)."""

from __future__ import annotations

import environ
from django.conf import settings

_env = environ.Env()


def _get(name: str, cast, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    return cast(name, default=default)


# Longest window a rule may look back over; windows are trimmed to it.
MAX_WINDOW_SECONDS: int = _get("ALERTS_MAX_WINDOW_SECONDS", _env.int, 3600)
# How often the periodic pass runs (time-based transitions, no-data, outbox sweep).
PERIODIC_SECONDS: float = _get("ALERTS_PERIODIC_SECONDS", _env.float, 2.0)
# Webhook delivery: attempts in all, first backoff (doubles each retry), request timeout.
WEBHOOK_MAX_ATTEMPTS: int = _get("ALERTS_WEBHOOK_MAX_ATTEMPTS", _env.int, 5)
WEBHOOK_BACKOFF_SECONDS: float = _get("ALERTS_WEBHOOK_BACKOFF_SECONDS", _env.float, 2.0)
WEBHOOK_TIMEOUT_SECONDS: float = _get("ALERTS_WEBHOOK_TIMEOUT_SECONDS", _env.float, 5.0)
# A notification claimed but not finished for this long is presumed lost with its worker.
STALE_SENDING_SECONDS: int = _get("ALERTS_STALE_SENDING_SECONDS", _env.int, 120)
# Pending notifications / overdue escalation steps older than this are re-enqueued.
OUTBOX_GRACE_SECONDS: int = _get("ALERTS_OUTBOX_GRACE_SECONDS", _env.int, 30)
# Emergency capacity asked of the scaling manager, by default.
EMERGENCY_CAPACITY_MINUTES: int = _get("ALERTS_EMERGENCY_CAPACITY_MINUTES", _env.int, 120)
# Base URL used in notification links (settings.py derives or requires it).
PUBLIC_URL: str = settings.ALERTS_PUBLIC_URL
# Alerts sent Alertmanager-style without endsAt are resolved this long after the last
# repeat (Alertmanager's resolve_timeout).
ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS: int = _get(
    "ALERTS_ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS", _env.int, 300
)
# Requests per second one sender may post to /alertmanager/api/v2/alerts (then 503).
ALERTMANAGER_THROTTLE: str = _get("ALERTS_ALERTMANAGER_THROTTLE", _env.str, "50/s")
