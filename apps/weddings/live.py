"""Wedding-day mode: which weddings are live, now or within the next hours.

A wedding is live from LIVE_LEAD_MINUTES before its ceremony until LIVE_TAIL_MINUTES after
its reception ends. The local times are in the venue's timezone; Wedding.save() turns them
into UTC instants (starts_at, ends_at), so DST days and receptions that run past midnight
are settled once, at write time, and every question here is a UTC range query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.weddings.models import Wedding

# Cancelled weddings do not happen; completed ones have been closed by staff.
NOT_LIVE_STATUSES = (Wedding.Status.CANCELLED, Wedding.Status.COMPLETED)


def lead() -> timedelta:
    return timedelta(minutes=settings.WEDSYNC.get("LIVE_LEAD_MINUTES", 120))


def tail() -> timedelta:
    return timedelta(minutes=settings.WEDSYNC.get("LIVE_TAIL_MINUTES", 60))


def live_window(wedding: Wedding) -> tuple[datetime, datetime]:
    """(start, end) in UTC of the wedding's wedding-day mode."""
    if wedding.starts_at is None or wedding.ends_at is None:
        wedding.compute_instants()
    return wedding.starts_at - lead(), wedding.ends_at + tail()


def live_weddings(at: datetime | None = None, within_hours: float = 0) -> QuerySet[Wedding]:
    """Weddings live at `at` (default now) or becoming live within the next `within_hours`."""
    at = at or timezone.now()
    horizon = at + timedelta(hours=within_hours)
    return (
        Wedding.objects.exclude(status__in=NOT_LIVE_STATUSES)
        .filter(starts_at__lte=horizon + lead(), ends_at__gt=at - tail())
        .select_related("venue", "venue__region")
        .order_by("starts_at", "pk")
    )


def is_any_wedding_live(at: datetime | None = None) -> bool:
    return live_weddings(at).exists()


def supplier_in_wedding_day_mode(supplier_id: int, at: datetime | None = None) -> bool:
    return live_weddings(at).filter(suppliers=supplier_id).exists()


def region_in_wedding_day_mode(region_code: str, at: datetime | None = None) -> bool:
    return live_weddings(at).filter(venue__region__code=region_code).exists()


def live_counts_by_region(at: datetime | None = None) -> dict[str, int]:
    """{region code: live weddings}, every region present (0 when quiet)."""
    from django.db.models import Count

    from apps.weddings.models import Region

    counts = {code: 0 for code in Region.objects.values_list("code", flat=True)}
    rows = live_weddings(at).order_by().values("venue__region__code").annotate(n=Count("pk"))
    for row in rows:
        counts[row["venue__region__code"]] = row["n"]
    return counts
