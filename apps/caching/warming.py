"""Warming: load the bundles of the weddings starting in the next hours before anyone asks.

Idempotent: a bundle already cached is left as it is (get_or_load), so running it
twice, or from two workers, costs a few cache hits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from apps.caching.bundles import warm_wedding

HORIZON_HOURS = 48


def upcoming_wedding_ids(hours: float = HORIZON_HOURS, at: datetime | None = None) -> list[int]:
    """Weddings that are live or start within `hours` (cancelled ones excluded)."""
    from apps.weddings.models import Wedding

    now = at or timezone.now()
    return list(
        Wedding.objects.filter(starts_at__lte=now + timedelta(hours=hours), ends_at__gte=now)
        .exclude(status=Wedding.Status.CANCELLED)
        .order_by("starts_at")
        .values_list("id", flat=True)
    )


def warm_upcoming(
    hours: float = HORIZON_HOURS,
    at: datetime | None = None,
    progress: Callable[[Iterable[int], int], Iterable[int]] | None = None,
) -> dict:
    """Load every upcoming wedding's bundle and its suppliers' maps; returns counts.

    What is loaded is pinned (apps.caching.pinning) until the wedding's day is over, so it
    stays warm between hourly runs."""
    from apps.caching import pinning

    pinning.forget()  # pin what this run loads by the calendar as it is now
    ids = upcoming_wedding_ids(hours, at)
    iterator = progress(ids, len(ids)) if progress else ids
    warmed = 0
    for wedding_id in iterator:
        if warm_wedding(wedding_id):
            warmed += 1
    return {"weddings": len(ids), "warmed": warmed, "hours": hours}


def coverage(hours: float = HORIZON_HOURS, at: datetime | None = None) -> dict:
    """How many weddings starting within `hours` (not live yet) have their bundle warm.

    Warm means held in Redis (the tier every process shares), or in this process's L1 on
    the embedded default (no Redis). Live weddings are left out: the gateway reads (and so
    loads) their bundles all day; warming is about the ones ahead."""
    from apps.caching.bundles import bundle_key
    from apps.caching.service import cache
    from apps.weddings.live import lead
    from apps.weddings.models import Wedding

    now = at or timezone.now()
    ids = list(
        Wedding.objects.filter(
            starts_at__gt=now + lead(), starts_at__lte=now + timedelta(hours=hours)
        )
        .exclude(status=Wedding.Status.CANCELLED)
        .values_list("id", flat=True)
    )
    warm = sum(cache.held([bundle_key(pk) for pk in ids]))
    return {"hours": hours, "upcoming": len(ids), "warm": warm, "cold": len(ids) - warm}
