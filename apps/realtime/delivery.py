"""How a topic is delivered: heartbeat, batching window, replay length.

The venue profiles themselves (connectivity levels, venue-type defaults, the degraded and
wedding-day variants) live in apps.weddings.profiles, their one source of truth.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.realtime.conf import conf
from apps.realtime.topics import parse_topic
from apps.weddings.live import live_window
from apps.weddings.profiles import profile_for_venue, wedding_day_profile


@dataclass(frozen=True)
class Delivery:
    heartbeat_s: float
    batch_window_ms: int
    replay: int
    compression: bool = False
    wedding_day: bool = False
    reconnect_backoff_ms: int = 1000  # the first reconnect delay clients are told (hello)


def _is_live(wedding, at: datetime) -> bool:
    start, end = live_window(wedding)
    return wedding.status != "cancelled" and start <= at <= end


def delivery_for_topic(topic: str, at: datetime | None = None) -> Delivery:
    """Read from the database: the venue profile of a wedding topic, wedding-day aware."""
    from apps.weddings.models import Wedding

    cfg = conf()
    kind, ident = parse_topic(topic)
    default = Delivery(
        cfg.default_heartbeat_s, 0, cfg.default_replay, reconnect_backoff_ms=cfg.reconnect_min_ms
    )
    if kind != "wedding":
        return default
    wedding = Wedding.objects.select_related("venue").filter(pk=ident).first()
    if wedding is None:
        return default
    profile = profile_for_venue(wedding.venue)
    live = _is_live(wedding, at or timezone.now())
    if live:
        profile = wedding_day_profile(profile)
    return Delivery(
        heartbeat_s=float(profile.heartbeat_seconds),
        batch_window_ms=int(profile.batch_window_ms or 0),
        replay=int(profile.replay_buffer),
        compression=bool(profile.compression),
        wedding_day=live,
        reconnect_backoff_ms=int(profile.reconnect_backoff_ms or cfg.reconnect_min_ms),
    )


def connection_delivery(wedding_ids: frozenset[int]) -> Delivery:
    """The profile that governs a connection before it subscribes (the hello frame): the
    venue of the supplier's wedding that is live now, else of its next one (a
    photographer's app at a beach is told the beach's heartbeat and backoff)."""
    from apps.weddings.models import Wedding

    cfg = conf()
    upcoming = list(
        Wedding.objects.filter(pk__in=wedding_ids, date__gte=timezone.localdate() - timedelta(1))
        .exclude(status="cancelled")
        .order_by("date", "ceremony_time")
        .values_list("pk", flat=True)[:3]
    )
    profiles = [deliveries.get(f"wedding:{pk}") for pk in upcoming]
    live = [p for p in profiles if p.wedding_day]
    if live or profiles:
        return (live or profiles)[0]
    return Delivery(
        cfg.default_heartbeat_s, 0, cfg.default_replay, reconnect_backoff_ms=cfg.reconnect_min_ms
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
