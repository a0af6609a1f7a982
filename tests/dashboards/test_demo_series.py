"""Issue 15: the demo's history uses the real regions and pools, and its live weddings per
region agree with the calendar (the Wedding Day tile), not made-up series."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.seeding import SeedContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar_and_pools(db):
    from apps.scaling.models import ScalingPolicy
    from apps.weddings.models import Region, Venue, Wedding

    for code, tz in (("us-west", "America/Los_Angeles"), ("us-south", "America/Chicago")):
        region = Region.objects.create(code=code, name=code, timezone=tz)
        venue = Venue.objects.create(
            name=f"Hall {code}", venue_type="banquet_hall", region=region, timezone=tz
        )
        if code == "us-west":  # one wedding live now, in us-west
            local = timezone.now().astimezone(venue.tz)
            Wedding.objects.create(
                date=local.date(),
                ceremony_time=(local - timedelta(hours=1)).time().replace(microsecond=0),
                reception_end_time=(local + timedelta(hours=2)).time().replace(microsecond=0),
                venue=venue,
                couple_name="Live now",
            )
    ScalingPolicy.objects.create(pool="web", capacity_per_unit=100, baseline_units=5)
    ScalingPolicy.objects.create(pool="worker", capacity_per_unit=25, baseline_units=2)


def test_demo_samples_use_the_calendars_regions_and_the_real_pools(calendar_and_pools):
    from apps.dashboards import demo
    from apps.monitoring.query import query_range
    from apps.weddings.live import live_counts_by_region

    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    now = time.time()
    live = query_range("wedsync_weddings_live", {}, now - 6 * 3600, now, step=60, agg="max")
    assert {s["labels"]["region"] for s in live} == {"us-west", "us-south"}
    latest = {s["labels"]["region"]: s["points"][-1][1] for s in live}
    assert latest == live_counts_by_region() == {"us-west": 1, "us-south": 0}
    # Six hours ago the wedding was not live yet (its day starts 1 h + the lead before).
    first = {s["labels"]["region"]: s["points"][0][1] for s in live}
    assert first == {"us-west": 0, "us-south": 0}
    for name in ("wedsync_capacity_desired", "wedsync_capacity_current"):
        series = query_range(name, {}, now - 3600, now, step=60, agg="last")
        assert {s["labels"]["pool"] for s in series} == {"web", "worker"}
