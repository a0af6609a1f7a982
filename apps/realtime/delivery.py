"""How a topic is delivered: heartbeat, batching window, replay length.

The calendar engineer owns venue profiles (apps.weddings.profiles); until that
module is on main this file reads the Venue fields itself, in `_venue_profile`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.realtime.conf import conf
from apps.realtime.topics import parse_topic


@dataclass(frozen=True)
class Delivery:
    heartbeat_s: float
    batch_window_ms: int
    replay: int
    compression: bool = False
    wedding_day: bool = False


# Fallbacks while apps.weddings.profiles is not there: by connectivity, then venue type.
_BY_CONNECTIVITY = {
    "good": (25, 0, False, 200, 1000),
    "fair": (15, 100, True, 500, 2000),
    "poor": (10, 250, True, 1000, 5000),
}
_TYPE_CONNECTIVITY = {
    "banquet_hall": "good",
    "garden": "good",
    "church": "fair",
    "historic": "fair",
    "outdoor": "poor",
    "beach": "poor",
}


def _venue_profile(venue) -> object:
    try:
        from apps.weddings.profiles import profile_for_venue
    except ImportError:
        profile_for_venue = None
    if profile_for_venue is not None:
        return profile_for_venue(venue)
    level = (
        "poor"
        if venue.degraded
        else (venue.connectivity or _TYPE_CONNECTIVITY.get(venue.venue_type, "good"))
    )
    heartbeat, window, compression, replay, backoff = _BY_CONNECTIVITY[level]

    def pick(value, default):
        return default if value is None or venue.degraded else value

    return _Profile(
        connectivity=level,
        heartbeat_seconds=pick(venue.heartbeat_seconds, heartbeat),
        batch_window_ms=pick(venue.batch_window_ms, window),
        compression=pick(venue.compression, compression),
        replay_buffer=pick(venue.replay_buffer, replay),
        reconnect_backoff_ms=pick(venue.reconnect_backoff_ms, backoff),
    )


@dataclass(frozen=True)
class _Profile:
    connectivity: str
    heartbeat_seconds: int
    batch_window_ms: int
    compression: bool
    replay_buffer: int
    reconnect_backoff_ms: int


def _wedding_day(profile) -> object:
    try:
        from apps.weddings.profiles import wedding_day_profile
    except ImportError:
        wedding_day_profile = None
    if wedding_day_profile is not None:
        return wedding_day_profile(profile)
    return _Profile(
        connectivity=profile.connectivity,
        heartbeat_seconds=max(5, profile.heartbeat_seconds // 2),
        batch_window_ms=profile.batch_window_ms,
        compression=profile.compression,
        replay_buffer=profile.replay_buffer * 4,
        reconnect_backoff_ms=profile.reconnect_backoff_ms,
    )


def _is_live(wedding, at: datetime) -> bool:
    try:
        from apps.weddings.live import live_window
    except ImportError:
        live_window = None
    if live_window is not None:
        start, end = live_window(wedding)
    else:
        start = wedding.starts_at - timedelta(minutes=settings.WEDSYNC["LIVE_LEAD_MINUTES"])
        end = wedding.ends_at + timedelta(minutes=settings.WEDSYNC["LIVE_TAIL_MINUTES"])
    return wedding.status != "cancelled" and start <= at <= end


def delivery_for_topic(topic: str, at: datetime | None = None) -> Delivery:
    """Read from the database: the venue profile of a wedding topic, wedding-day aware."""
    from apps.weddings.models import Wedding

    cfg = conf()
    kind, ident = parse_topic(topic)
    default = Delivery(cfg.default_heartbeat_s, 0, cfg.default_replay)
    if kind != "wedding":
        return default
    wedding = Wedding.objects.select_related("venue").filter(pk=ident).first()
    if wedding is None:
        return default
    profile = _venue_profile(wedding.venue)
    live = _is_live(wedding, at or timezone.now())
    if live:
        profile = _wedding_day(profile)
    return Delivery(
        heartbeat_s=float(profile.heartbeat_seconds),
        batch_window_ms=int(profile.batch_window_ms or 0),
        replay=int(profile.replay_buffer),
        compression=bool(profile.compression),
        wedding_day=live,
    )


class DeliveryCache:
    """Per-process memo of delivery_for_topic for a few seconds: it is derived data
    (venue rows), so a local copy is safe; changes show up within the TTL."""

    def __init__(self, ttl_s: float | None = None):
        self.ttl = conf().profile_ttl_s if ttl_s is None else ttl_s
        self._items: dict[str, tuple[float, Delivery]] = {}
        self._lock = threading.Lock()

    def get(self, topic: str) -> Delivery:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(topic)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = delivery_for_topic(topic)
        with self._lock:
            if len(self._items) > 50_000:
                self._items.clear()
            self._items[topic] = (now + self.ttl, value)
        return value

    def peek(self, topic: str) -> Delivery | None:
        hit = self._items.get(topic)
        return hit[1] if hit is not None else None

    def forget(self) -> None:
        with self._lock:
            self._items.clear()


deliveries = DeliveryCache()
