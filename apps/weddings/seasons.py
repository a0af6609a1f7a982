"""Seasonal optimizer: season and load multiplier for a date, a datetime and a region.

Seasons are data (RegionMonth rows, editable in admin); DEFAULT_SEASONS fills any month a
region has no row for, and seeds the demo. Where the defaults come from: docs/weddings.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

P, S, OFF = "peak", "shoulder", "off"

# month -> (season, multiplier); index 0 is January.
_NORTH = [
    (OFF, 0.25), (OFF, 0.25), (OFF, 0.3), (S, 0.5), (P, 0.85), (P, 1.0),
    (P, 0.9), (P, 0.9), (P, 1.0), (P, 1.0), (S, 0.55), (OFF, 0.35),
]  # fmt: skip
_SOUTH = [
    (OFF, 0.35), (S, 0.5), (P, 0.85), (P, 1.0), (P, 1.0), (S, 0.7),
    (S, 0.55), (S, 0.55), (P, 0.85), (P, 1.0), (P, 0.95), (S, 0.6),
]  # fmt: skip
_WEST = [
    (OFF, 0.3), (OFF, 0.35), (S, 0.5), (S, 0.7), (P, 0.9), (P, 1.0),
    (P, 0.95), (P, 0.95), (P, 1.0), (P, 0.95), (S, 0.55), (OFF, 0.35),
]  # fmt: skip
DEFAULT_SEASONS: dict[str, list[tuple[str, float]]] = {
    "us-northeast": _NORTH,
    "us-midwest": _NORTH,
    "us-south": _SOUTH,
    "us-west": _WEST,
}
GENERIC_SEASONS = _NORTH  # an unknown region behaves like a northern one

# Saturday carries most weddings, then Friday and Sunday; weekdays are rare.
WEEKDAY_WEIGHTS = (0.08, 0.08, 0.08, 0.12, 0.45, 1.0, 0.35)  # Monday .. Sunday
# Each wedding live in the region adds this share on top of the calendar's baseline.
PER_LIVE_WEDDING = 0.1


def _region(region: Any):
    from apps.weddings.models import Region

    if isinstance(region, Region):
        return region
    return Region.objects.filter(code=region).first()


def _code(region: Any) -> str:
    return region if isinstance(region, str) else region.code


def default_season(month: int, region_code: str) -> tuple[str, float]:
    return DEFAULT_SEASONS.get(region_code, GENERIC_SEASONS)[month - 1]


def season_table(region: Any) -> dict[int, tuple[str, float]]:
    """All twelve months of a region: its RegionMonth rows, defaults for missing months."""
    from apps.weddings.models import RegionMonth

    code = _code(region)
    table = {m: default_season(m, code) for m in range(1, 13)}
    rows = RegionMonth.objects.filter(region__code=code).values_list(
        "month", "season", "multiplier"
    )
    for month, season, multiplier in rows:
        table[month] = (season, multiplier)
    return table


def season_for(day: date, region: Any) -> tuple[str, float]:
    """(season, multiplier) of `day` in `region` (a Region or its code)."""
    from apps.weddings.models import RegionMonth

    code = _code(region)
    row = (
        RegionMonth.objects.filter(region__code=code, month=day.month)
        .values_list("season", "multiplier")
        .first()
    )
    return tuple(row) if row else default_season(day.month, code)


def weekday_weight(day: date) -> float:
    return WEEKDAY_WEIGHTS[day.weekday()]


def load_multiplier(at: datetime, region: Any) -> float:
    """Season × day of week (Saturday highest) × registered weddings live at `at`.

    The day and month are the region's local ones: 23:00 on a Friday in Los Angeles is
    already Saturday in UTC, and must not count as a Saturday there.
    """
    from apps.weddings.live import live_weddings

    obj = _region(region)
    tz = ZoneInfo(obj.timezone) if obj else ZoneInfo("UTC")
    if timezone.is_naive(at):
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    local_day = at.astimezone(tz).date()
    _, season = season_for(local_day, obj or region)
    live = live_weddings(at).filter(venue__region__code=_code(region)).count()
    return round(season * weekday_weight(local_day) * (1 + PER_LIVE_WEDDING * live), 6)
