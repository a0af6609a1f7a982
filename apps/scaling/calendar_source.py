"""What the scaling app needs from the wedding calendar, in one place.

Uses apps.weddings.live / seasons when the calendar app provides them; until then
the Wedding model's UTC instants and the RegionMonth table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from apps.scaling import conf
from apps.weddings.models import Region, RegionMonth, Wedding

try:  # the calendar engineer's modules, once merged
    from apps.weddings import live as _live
except ImportError:  # pragma: no cover - depends on merge order
    _live = None
try:
    from apps.weddings import seasons as _seasons
except ImportError:  # pragma: no cover
    _seasons = None


@dataclass(frozen=True)
class LiveWedding:
    id: int
    start: datetime  # live window, UTC
    end: datetime
    connections: float


def _fallback_window(wedding: Wedding) -> tuple[datetime, datetime]:
    cfg = settings.WEDSYNC
    return (
        wedding.starts_at - timedelta(minutes=cfg["LIVE_LEAD_MINUTES"]),
        wedding.ends_at + timedelta(minutes=cfg["LIVE_TAIL_MINUTES"]),
    )


def live_window(wedding: Wedding) -> tuple[datetime, datetime]:
    if _live is not None and hasattr(_live, "live_window"):
        return _live.live_window(wedding)
    return _fallback_window(wedding)


def expected_connections(wedding: Wedding) -> float:
    if wedding.expected_connections:
        return float(wedding.expected_connections)
    return round(wedding.expected_guests * conf.connections_per_guest())


def weddings_between(start: datetime, end: datetime) -> list[LiveWedding]:
    """Registered (not cancelled) weddings whose live window overlaps [start, end)."""
    margin = timedelta(hours=6)  # live windows reach beyond the ceremony and reception
    rows = (
        Wedding.objects.filter(starts_at__lt=end + margin, ends_at__gt=start - margin)
        .exclude(status=Wedding.Status.CANCELLED)
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
    at = at or timezone.now()
    if _live is not None and hasattr(_live, "is_any_wedding_live"):
        return bool(_live.is_any_wedding_live(at))
    return bool(weddings_between(at, at + timedelta(microseconds=1)))


def region_weights() -> dict[int, float]:
    """Share of the load each region carries: proportional to its venues (equal if none)."""
    counts = dict(Region.objects.annotate(n=Count("venues")).values_list("id", "n"))
    total = sum(counts.values())
    if not total:
        return {rid: 1 / len(counts) for rid in counts}
    return {rid: n / total for rid, n in counts.items() if n}


class SeasonTable:
    """Season multipliers per region, read once: load_multiplier(at, region)."""

    def __init__(self) -> None:
        self.weights = region_weights()
        self.regions = {r.id: r for r in Region.objects.filter(id__in=self.weights)}
        self.months: dict[tuple[int, int], float] = {
            (rid, month): mult
            for rid, month, mult in RegionMonth.objects.values_list(
                "region_id", "month", "multiplier"
            )
        }
        self._cache: dict[tuple[int, int, int], float] = {}

    def region_multiplier(self, at: datetime, region: Region) -> float:
        if _seasons is not None and hasattr(_seasons, "load_multiplier"):
            return float(_seasons.load_multiplier(at, region))
        local = at.astimezone(ZoneInfo(region.timezone))
        return self.months.get((region.id, local.month), 1.0)

    def factor(self, at: datetime) -> float:
        """Venue-weighted season multiplier across regions (1.0 when no regions)."""
        if not self.weights:
            return 1.0
        key = (at.year, at.month, at.day)
        if key in self._cache:
            return self._cache[key]
        value = sum(
            w * self.region_multiplier(at, self.regions[rid]) for rid, w in self.weights.items()
        )
        self._cache[key] = value
        return value
