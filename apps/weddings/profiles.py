"""Connectivity profiles: the delivery settings the gateway applies to a venue's connections.

Each venue type has defaults (a stone church or a beach gets one bar of signal, a banquet
hall has Wi-Fi); a venue's own fields override them; an emergency marks a venue degraded
and the gateway then applies the degraded profile; on a wedding day it tightens further.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class VenueProfile:
    connectivity: str  # good | fair | poor
    heartbeat_seconds: int  # server ping interval: detects dead sockets, keeps NATs open
    batch_window_ms: int  # coalesce updates to one frame per window (fewer radio wake-ups)
    compression: bool  # compress payloads (permessage-deflate / zstd) on thin links
    replay_buffer: int  # messages kept per topic for replay after a reconnect
    reconnect_backoff_ms: int  # first backoff hint sent to clients (avoids reconnect storms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "connectivity": self.connectivity,
            "heartbeat_seconds": self.heartbeat_seconds,
            "batch_window_ms": self.batch_window_ms,
            "compression": self.compression,
            "replay_buffer": self.replay_buffer,
            "reconnect_backoff_ms": self.reconnect_backoff_ms,
        }


# Why these: halls have house Wi-Fi (good); gardens and open fields rely on one cell tower
# (fair); stone churches, old listed buildings and beaches are the classic dead zones (poor).
# Thinner links get longer batching windows, compression, deeper replay and slower backoff.
TYPE_DEFAULTS: dict[str, VenueProfile] = {
    "banquet_hall": VenueProfile("good", 30, 50, False, 200, 1000),
    "garden": VenueProfile("fair", 20, 150, True, 500, 1500),
    "outdoor": VenueProfile("fair", 20, 150, True, 500, 1500),
    "historic": VenueProfile("poor", 15, 200, True, 800, 2000),
    "church": VenueProfile("poor", 15, 250, True, 1000, 2000),
    "beach": VenueProfile("poor", 15, 250, True, 1000, 2500),
}
FALLBACK = TYPE_DEFAULTS["outdoor"]

OVERRIDE_FIELDS = (
    "connectivity",
    "heartbeat_seconds",
    "batch_window_ms",
    "compression",
    "replay_buffer",
    "reconnect_backoff_ms",
)


def default_profile(venue_type: str) -> VenueProfile:
    return TYPE_DEFAULTS.get(venue_type, FALLBACK)


def degraded_profile(profile: VenueProfile) -> VenueProfile:
    """The venue's network has failed or is failing: batch hard, compress, replay deep,
    and spread reconnects out so a flapping link does not stampede the gateway."""
    return replace(
        profile,
        connectivity="poor",
        heartbeat_seconds=min(profile.heartbeat_seconds, 15),
        batch_window_ms=max(profile.batch_window_ms, 500),
        compression=True,
        replay_buffer=max(profile.replay_buffer * 2, 2000),
        reconnect_backoff_ms=max(profile.reconnect_backoff_ms * 2, 5000),
    )


def profile_for_venue(venue: Any) -> VenueProfile:
    """Type defaults, then the venue's own non-blank fields; degraded when venue.degraded."""
    profile = default_profile(venue.venue_type)
    overrides = {}
    for name in OVERRIDE_FIELDS:
        value = getattr(venue, name, None)
        if value is not None and value != "":
            overrides[name] = value
    profile = replace(profile, **overrides)
    if getattr(venue, "degraded", False):
        profile = degraded_profile(profile)
    return profile


def wedding_day_profile(profile: VenueProfile) -> VenueProfile:
    """During a live wedding: notice a dead socket twice as fast, keep twice the history."""
    return replace(
        profile,
        heartbeat_seconds=max(5, profile.heartbeat_seconds // 2),
        replay_buffer=profile.replay_buffer * 2,
    )


_QUALITY = {"good": 0, "fair": 1, "poor": 2}


def most_cautious(profiles: list[VenueProfile]) -> VenueProfile:
    """One profile that suits all of them: the poorest link's needs on every axis."""
    return VenueProfile(
        connectivity=max((p.connectivity for p in profiles), key=lambda c: _QUALITY.get(c, 1)),
        heartbeat_seconds=min(p.heartbeat_seconds for p in profiles),
        batch_window_ms=max(p.batch_window_ms for p in profiles),
        compression=any(p.compression for p in profiles),
        replay_buffer=max(p.replay_buffer for p in profiles),
        reconnect_backoff_ms=max(p.reconnect_backoff_ms for p in profiles),
    )


def profile_for_connection(supplier_id: int, at: Any = None) -> VenueProfile:
    """The profile for a supplier's gateway connection: while the supplier works a live
    wedding, its venue's profile in wedding-day form (the most cautious one if it works
    several); otherwise the banquet-hall baseline (office or home Wi-Fi)."""
    from apps.weddings.live import live_weddings

    venues = {w.venue_id: w.venue for w in live_weddings(at).filter(suppliers=supplier_id)}
    if not venues:
        return TYPE_DEFAULTS["banquet_hall"]
    return wedding_day_profile(most_cautious([profile_for_venue(v) for v in venues.values()]))
