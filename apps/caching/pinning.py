"""Which cache keys are pinned: those tagged with a wedding that is live now or starts
within the warming horizon (48 h).

A key is pinned when one of its tags is `wedding:<id>` of such a wedding; it then stays
in L1 (outside the LRU order) and in Redis until the wedding's live window ends. So a
bundle warmed (hourly) or reloaded after an edit stays warm until the wedding is over,
instead of expiring after the default TTL and waiting cold for the next warming run.
The set of pinned weddings is read from the database at most every 30 s per
process: a cheap, bounded staleness for a decision that only affects retention.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
_lock = threading.Lock()
_state: dict = {"until": {}, "refreshed": 0.0}


def live_windows(at: datetime | None = None, within_hours: float | None = None) -> dict[int, float]:
    """{wedding id: end of its live window (unix seconds)} for weddings live at `at` or
    starting within `within_hours` (default: the warming horizon)."""
    from django.utils import timezone

    from apps.caching.warming import HORIZON_HOURS
    from apps.weddings.live import live_weddings, live_window

    hours = HORIZON_HOURS if within_hours is None else within_hours
    now = at or timezone.now()
    weddings = live_weddings(at=now, within_hours=hours)
    return {w.id: live_window(w)[1].timestamp() for w in weddings}


def live_pin_until(tags: tuple) -> float | None:
    """Pin expiry for a key with these tags, or None when no tag names a live wedding."""
    now = time.monotonic()
    if now - _state["refreshed"] > REFRESH_SECONDS:
        with _lock:
            if now - _state["refreshed"] > REFRESH_SECONDS:
                try:
                    _state["until"] = live_windows()
                except Exception:  # the database is down: pin nothing, never fail a read
                    log.debug("cache: live weddings unavailable", exc_info=True)
                    _state["until"] = {}
                _state["refreshed"] = now
    until = _state["until"]
    if not until:
        return None
    best = None
    for tag in tags:
        if tag.startswith("wedding:"):
            try:
                end = until.get(int(tag[8:]))
            except ValueError:
                continue
            if end is not None and (best is None or end > best):
                best = end
    return best


def forget() -> None:
    """Re-read the live weddings on the next call (tests, and after calendar writes)."""
    _state["refreshed"] = 0.0
