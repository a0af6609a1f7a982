"""Settings of the status pages (settings.STATUSPAGES, read from the environment there)."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Requests per client IP per minute to /status/… (pages, JSON, sockets, forms).
    "RATE_PER_MINUTE": 120,
    # Unknown, revoked or expired tokens per client IP per minute before that IP gets 429s.
    "MISSES_PER_MINUTE": 10,
    # Each process re-reads the state of the weddings it has sockets open for this often
    # (a supplier app dropping is a lease released in Redis, not a database write).
    "LIVE_TICK_SECONDS": 1.0,
    # What a browser falls back to when WebSockets are blocked.
    "POLL_SECONDS": 5,
    # A subscriber gets at most one message in this many seconds (changes are batched).
    "NOTIFY_MIN_INTERVAL_SECONDS": 60,
    # How often the batching job runs.
    "NOTIFY_EVERY_SECONDS": 10.0,
    # Unconfirmed email subscriptions are dropped after this.
    "CONFIRM_TTL_HOURS": 48,
    # Absolute base of links in emails and API answers; blank: the request's own host.
    "PUBLIC_URL": "",
    # Webhook request timeout.
    "WEBHOOK_TIMEOUT_SECONDS": 5.0,
}


def get(name: str):
    return {**DEFAULTS, **getattr(settings, "STATUSPAGES", {})}[name]
