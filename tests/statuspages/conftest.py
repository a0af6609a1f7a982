"""Fixtures of the status-page tests: a live wedding with two suppliers, a second wedding
that must never show on the first one's page, and an issued link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import count

import pytest

_seq = count(1)


@dataclass
class World:
    wedding: object
    other: object
    suppliers: list
    supplier_tokens: list
    token: str
    path: str


def make_world(live: bool = True, days_ahead: int = 0) -> World:
    from apps.statuspages import links
    from apps.weddings.models import Region, Supplier, Venue, Wedding

    n = next(_seq)
    region, _ = Region.objects.get_or_create(
        code="uk-south", defaults={"name": "UK South", "timezone": "Europe/London"}
    )
    venue = Venue.objects.create(
        name=f"Seaview Chapel {n}", venue_type="beach", region=region, timezone="Europe/London"
    )
    other_venue = Venue.objects.create(
        name=f"Secret Manor {n}", venue_type="historic", region=region, timezone="Europe/London"
    )
    suppliers, tokens = [], []
    for label in ("Lens & Light", "Petal Planners"):
        s = Supplier.objects.create(name=f"{label} {n}")
        tokens.append(s.issue_token())
        suppliers.append(s)
    hidden = Supplier.objects.create(name=f"Hidden Caterers {n}")
    hidden.issue_token()
    now_local = dt.datetime.now(dt.UTC).astimezone(venue.tz)
    if live:
        # Live from 30 minutes ago until three hours from now (a wedding-day afternoon),
        # kept inside today so the reception never wraps past midnight.
        start = max(now_local - dt.timedelta(minutes=30), now_local.replace(hour=0, minute=1))
        end = min(now_local + dt.timedelta(hours=3), now_local.replace(hour=23, minute=58))
        day, ceremony, reception_end = now_local.date(), start.time(), end.time()
    else:
        day = now_local.date() + dt.timedelta(days=days_ahead)
        ceremony, reception_end = dt.time(14), dt.time(23)
    wedding = Wedding.objects.create(
        date=day,
        ceremony_time=ceremony.replace(microsecond=0),
        reception_end_time=reception_end.replace(microsecond=0),
        venue=venue,
        couple_name=f"Sam & Alex {n}",
    )
    wedding.suppliers.add(*suppliers)
    other = Wedding.objects.create(
        date=day,
        ceremony_time=dt.time(12),
        reception_end_time=dt.time(22),
        venue=other_venue,
        couple_name=f"Private Couple {n}",
    )
    other.suppliers.add(hidden)
    issued = links.issue(wedding)
    return World(wedding, other, suppliers, tokens, issued.token, issued.path)


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def live_world(transactional_db) -> World:
    """The same, committed, for tests that talk to a Daphne process."""
    return make_world()


@pytest.fixture(autouse=True)
def _clear_cache(db):
    # Rate-limit counters and cached summaries live in the default cache.
    from django.core.cache import cache

    cache.clear()
    yield
