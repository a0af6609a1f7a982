"""Fixtures of the scaling tests: policies, a venue and weddings in known timezones."""

from __future__ import annotations

from datetime import date, time

import pytest


@pytest.fixture
def web_policy(db):
    from apps.scaling.models import ScalingPolicy

    return ScalingPolicy.objects.create(
        pool="web",
        capacity_per_unit=100,
        baseline_units=2,
        min_units=1,
        emergency_units=15,
        actuators=["gauges"],
    )


@pytest.fixture
def worker_policy(db):
    from apps.scaling.models import ScalingPolicy

    return ScalingPolicy.objects.create(
        pool="worker", capacity_per_unit=10, baseline_units=2, min_units=1, actuators=["gauges"]
    )


@pytest.fixture
def london(db):
    from apps.weddings.models import Region, RegionMonth

    region = Region.objects.create(code="uk", name="United Kingdom", timezone="Europe/London")
    RegionMonth.objects.bulk_create(
        [
            RegionMonth(
                region=region,
                month=m,
                season="peak" if 5 <= m <= 9 else "off",
                multiplier=1.5 if 5 <= m <= 9 else 1.0,
            )
            for m in range(1, 13)
        ]
    )
    return region


@pytest.fixture
def make_wedding(london):
    from apps.weddings.models import Venue, Wedding

    # A banquet hall has no reconnect churn (x1.0): connections = ceil(guests x 0.35).
    venue = Venue.objects.create(
        name="The Grand Hall",
        venue_type="banquet_hall",
        region=london,
        timezone="Europe/London",
        capacity=10_000,
    )

    def make(day: date, start: time = time(14), end: time = time(22), connections: int = 300):
        wedding = Wedding.objects.create(
            date=day,
            ceremony_time=start,
            reception_end_time=end,
            venue=venue,
            couple_name=f"Couple {day}",
            expected_guests=int(connections / 0.35),  # the calendar derives connections
            status="confirmed",
        )
        assert wedding.expected_connections == connections
        return wedding

    return make


@pytest.fixture(autouse=True)
def _fresh_forecast_cache():
    """Cached forecast contexts outlive a test's rolled-back rows: start each test clean."""
    from apps.scaling.context import bump_calendar_version, forget_emergency
    from apps.scaling.observe import forget_observations

    bump_calendar_version()
    forget_emergency()
    forget_observations()
