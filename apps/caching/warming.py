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
    """Load every upcoming wedding's bundle and its suppliers' maps; returns counts."""
    ids = upcoming_wedding_ids(hours, at)
    iterator = progress(ids, len(ids)) if progress else ids
    warmed = 0
    for wedding_id in iterator:
        if warm_wedding(wedding_id):
            warmed += 1
    return {"weddings": len(ids), "warmed": warmed, "hours": hours}
