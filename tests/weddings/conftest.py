"""Fixtures of the weddings tests: regions, venues, weddings and suppliers, built directly."""

from __future__ import annotations

from datetime import date, time
from itertools import count

import pytest

_seq = count(1)


@pytest.fixture
def region(db):
    from apps.weddings.models import Region

    return Region.objects.get_or_create(
        code="us-northeast", defaults={"name": "US Northeast", "timezone": "America/New_York"}
    )[0]


@pytest.fixture
def west(db):
    from apps.weddings.models import Region

    return Region.objects.get_or_create(
        code="us-west", defaults={"name": "US West", "timezone": "America/Los_Angeles"}
    )[0]


@pytest.fixture
def make_venue(region):
    from apps.weddings.models import Venue

    def make(venue_type: str = "church", tz: str = "America/New_York", reg=None, **fields):
        return Venue.objects.create(
            name=fields.pop("name", f"Venue {next(_seq)}"),
            venue_type=venue_type,
            region=reg or region,
            timezone=tz,
            **fields,
        )

    return make


@pytest.fixture
def make_wedding(make_venue):
    from apps.weddings.models import Wedding

    def make(
        venue=None,
        day: date = date(2027, 6, 12),
        start: time = time(15, 0),
        end: time = time(23, 0),
        **fields,
    ):
        return Wedding.objects.create(
            venue=venue or make_venue(),
            date=day,
            ceremony_time=start,
            reception_end_time=end,
            couple_name=fields.pop("couple_name", f"Couple {next(_seq)}"),
            **fields,
        )

    return make


@pytest.fixture
def make_supplier(db):
    from apps.weddings.models import Supplier

    def make(name: str | None = None, **fields):
        return Supplier.objects.create(name=name or f"Supplier {next(_seq)}", **fields)

    return make


@pytest.fixture
def live_wedding(make_venue, make_wedding):
    """A wedding live right now: ceremony 30 minutes ago at a venue on UTC."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now().astimezone(timezone.get_fixed_timezone(0))
    start = (now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    return make_wedding(
        venue=make_venue("church", tz="UTC", name="St Live"),
        day=start.date(),
        start=start.time(),
        end=(start + timedelta(hours=3)).time(),
        couple_name="Live Couple",
    )


@pytest.fixture
def superadmin(make_user):
    user = make_user("sam-super", "admin")
    user.is_superuser = True
    user.save()
    return user
