"""What the home page shows: a one-screen summary built from each subsystem."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

# "Upcoming" on the overview: weddings that have not started yet, within this many days.
UPCOMING_DAYS = 7


def overview() -> dict:
    from apps.weddings.models import Supplier, Venue, Wedding

    now = timezone.now()
    today = timezone.localdate()
    live = Wedding.objects.filter(starts_at__lte=now, ends_at__gte=now).exclude(status="cancelled")
    return {
        "now": now,
        "weddings_live": live.count(),
        "weddings_today": Wedding.objects.filter(date=today).exclude(status="cancelled").count(),
        "weddings_upcoming": Wedding.objects.filter(
            starts_at__gt=now, starts_at__lte=now + timedelta(days=UPCOMING_DAYS)
        )
        .exclude(status="cancelled")
        .count(),
        "upcoming_days": UPCOMING_DAYS,
        "venues": Venue.objects.count(),
        "suppliers": Supplier.objects.count(),
        "live_weddings": list(live.select_related("venue", "venue__region")[:12]),
    }
