"""What the scaling app needs from the wedding calendar, in one place.

Live windows and statuses come from apps.weddings.live, season multipliers from
apps.weddings.seasons, so the forecast and the freeze agree on what "live" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone

from apps.scaling import conf
from apps.weddings import live as _live
from apps.weddings import seasons as _seasons
from apps.weddings.models import Region, Wedding


@dataclass(frozen=True)
class LiveWedding:
    id: int
    start: datetime  # live window, UTC
    end: datetime
    connections: float


def live_window(wedding: Wedding) -> tuple[datetime, datetime]:
    """The calendar's live window (lead before the ceremony, tail after the reception)."""
    return _live.live_window(wedding)


def expected_connections(wedding: Wedding) -> float:
    if wedding.expected_connections:
        return float(wedding.expected_connections)
    return round(wedding.expected_guests * conf.connections_per_guest())


def weddings_between(start: datetime, end: datetime) -> list[LiveWedding]:
    """Registered (not cancelled) weddings whose live window overlaps [start, end)."""
    margin = timedelta(hours=6)  # live windows reach beyond the ceremony and reception
    rows = (
        Wedding.objects.filter(starts_at__lt=end + margin, ends_at__gt=start - margin)
        .exclude(status__in=_live.NOT_LIVE_STATUSES)
        .select_related("venue")
        .only(
            "id",
            "date",
            "ceremony_time",
            "reception_end_time",
            "starts_at",
            "ends_at",
            "expected_guests",
            "expected_connections",
            "status",
            "venue__timezone",
            "venue__region_id",
        )
    )
    found = []
    for wedding in rows:
        ws, we = live_window(wedding)
        if ws < end and we > start:
            found.append(LiveWedding(wedding.id, ws, we, expected_connections(wedding)))
    return found


def any_wedding_live(at: datetime | None = None) -> bool:
    return _live.is_any_wedding_live(at or timezone.now())


def region_weights() -> dict[int, float]:
    """Share of the load each region carries: proportional to its venues (equal if none)."""
    counts = dict(Region.objects.annotate(n=Count("venues")).values_list("id", "n"))
    total = sum(counts.values())
    if not total:
        return {rid: 1 / len(counts) for rid in counts}
    return {rid: n / total for rid, n in counts.items() if n}


class SeasonTable:
    """Season multipliers of every region, read once (apps.weddings.seasons.season_table).

    Only the season: the forecast's baseline already carries the day of the week, and the
    weddings are added from the calendar, so the calendar's load_multiplier (season ×
    weekday × live weddings) would count those twice.
    """

    def __init__(self) -> None:
        self.weights = region_weights()
        regions = Region.objects.filter(id__in=self.weights)
        self.zones = {r.id: ZoneInfo(r.timezone) for r in regions}
        self.months = {
            r.id: {m: mult for m, (_, mult) in _seasons.season_table(r).items()} for r in regions
        }
        self._cache: dict[tuple[int, int, int, int], float] = {}

    def region_multiplier(self, at: datetime, region_id: int) -> float:
        return self.months[region_id][at.astimezone(self.zones[region_id]).month]

    def factor(self, at: datetime) -> float:
        """Venue-weighted season multiplier across regions (1.0 when there are none)."""
        if not self.weights:
            return 1.0
        key = (at.year, at.month, at.day, at.hour)  # a region's month starts at local midnight
        if key not in self._cache:
            self._cache[key] = sum(
                w * self.region_multiplier(at, rid) for rid, w in self.weights.items()
            )
        return self._cache[key]
