"""Maintenance windows that overlap a wedding's day and touch it.

apps.alerts' MaintenanceWindow is a recurring local-time window that mutes alerts whose
labels match. A window is public maintenance for a wedding when its matchers only use the
labels the page knows about (service, venue, region, wedding, supplier) and each matches this
wedding; an empty matcher set is platform-wide maintenance. Windows keyed on anything else
(an alert name, a host) are internal muting and never shown. The window's own name is not
shown either (operators name them after hosts): the page says what is under maintenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apps.alerts.models import MaintenanceWindow
from apps.weddings.models import Wedding

PUBLIC_KEYS = {"service", "venue", "region", "wedding", "supplier"}
SERVICES = ("realtime", "uploads", "api")


@dataclass(frozen=True)
class Occurrence:
    window_id: int
    starts_at: datetime
    ends_at: datetime
    components: tuple[str, ...]

    def status(self, now: datetime) -> str:
        if now < self.starts_at:
            return "scheduled"
        if now < self.ends_at:
            return "in_progress"
        return "completed"


def day_span(wedding: Wedding) -> tuple[datetime, datetime]:
    """The wedding's day in UTC: local midnight to the later of next midnight and the end."""
    tz = ZoneInfo(wedding.venue.timezone)
    start = datetime.combine(wedding.date, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(wedding.date + timedelta(days=1), time(0), tzinfo=tz)
    end = end.astimezone(ZoneInfo("UTC"))
    if wedding.ends_at and wedding.ends_at > end:
        end = wedding.ends_at
    return start, end


def _components(window: MaintenanceWindow, wedding: Wedding, suppliers: set[int]) -> tuple:
    matchers = window.matchers or {}
    if not set(matchers) <= PUBLIC_KEYS:
        return ()
    checks = {
        "venue": str(wedding.venue_id),
        "region": wedding.venue.region.code,
        "wedding": str(wedding.pk),
    }
    for key, expected in checks.items():
        if key in matchers and str(matchers[key]) != expected:
            return ()
    if "supplier" in matchers:
        value = str(matchers["supplier"])
        if not value.isdigit() or int(value) not in suppliers:
            return ()
        return (f"supplier:{value}",)
    if "service" in matchers:
        return (matchers["service"],) if matchers["service"] in SERVICES else ()
    if "venue" in matchers or "wedding" in matchers:
        return ("venue",)
    return SERVICES


def occurrences(window: MaintenanceWindow, start: datetime, end: datetime) -> list[tuple]:
    """(start, end) UTC of each occurrence of the window that overlaps [start, end)."""
    if not window.enabled:
        return []
    tz = ZoneInfo(window.timezone)
    duration = timedelta(minutes=window.duration_minutes)
    first = start.astimezone(tz).date() - timedelta(days=window.duration_minutes // 1440 + 1)
    found = []
    day = first
    while day <= end.astimezone(tz).date():
        ok = not window.weekdays or day.isoweekday() in window.weekdays
        ok = ok and not (window.valid_from and day < window.valid_from)
        ok = ok and not (window.valid_until and day > window.valid_until)
        if ok:
            begins = datetime.combine(day, window.start_time, tzinfo=tz).astimezone(ZoneInfo("UTC"))
            if begins < end and begins + duration > start:
                found.append((begins, begins + duration))
        day += timedelta(days=1)
    return found


def for_wedding(wedding: Wedding, supplier_ids: set[int]) -> list[Occurrence]:
    start, end = day_span(wedding)
    found: list[Occurrence] = []
    for window in MaintenanceWindow.objects.filter(enabled=True):
        components = _components(window, wedding, supplier_ids)
        if not components:
            continue
        for begins, ends in occurrences(window, start, end):
            found.append(Occurrence(window.pk, begins, ends, components))
    found.sort(key=lambda o: o.starts_at)
    return found
