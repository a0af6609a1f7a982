"""The Calendar page in Chromium, and the insights and demo data it is drawn from."""

from __future__ import annotations

import io
import json
import time as _time

import pytest
from django.db.models import Count

from apps.accounts.seeding import SeedContext
from apps.weddings import demo, insights
from apps.weddings.models import Supplier, Venue, Wedding
from tests.conftest import login, screenshot


def seed() -> SeedContext:
    ctx = SeedContext(stdout=io.StringIO(), quiet=True)
    demo.seed(ctx)
    return ctx


@pytest.mark.django_db(transaction=True)
def test_demo_is_fast_idempotent_and_shaped_like_a_wedding_year():
    started = _time.monotonic()
    ctx = seed()
    elapsed = _time.monotonic() - started
    assert elapsed < 20, elapsed
    counts = (Venue.objects.count(), Supplier.objects.count(), Wedding.objects.count())
    assert set(Venue.objects.values_list("venue_type", "region__code").distinct()) == {
        (t, r) for t in demo.VENUE_NAMES for r in demo.REGIONS
    }
    assert Supplier.objects.filter(max_connections__lt=200).count() == 0
    from django.core.validators import validate_email

    for email in Supplier.objects.values_list("contact_email", flat=True):
        validate_email(email)
    # Peak season and Saturdays carry the load: a June Saturday has dozens.
    june_saturdays = (
        Wedding.objects.filter(date__month=6, date__week_day=7)
        .values("date")
        .annotate(n=Count("pk"))
    )
    assert min(r["n"] for r in june_saturdays) >= 24
    by_weekday = dict(
        Wedding.objects.values_list("date__week_day").annotate(n=Count("pk")).order_by()
    )
    assert max(by_weekday, key=by_weekday.get) == 7
    jan = Wedding.objects.filter(date__month=1).count()
    assert Wedding.objects.filter(date__month=6).count() > 2 * jan
    # A few live right now, in every region.
    live = insights.live_now()
    assert len(live) >= 4 and {w["region"] for w in live} == set(demo.REGIONS)
    # Credentials: each supplier's token authenticates and names its weddings.
    creds = ctx.credentials["suppliers"]
    assert len(creds) == 40
    first = creds[0]
    supplier = Supplier.authenticate(first["token"])
    assert supplier is not None and supplier.pk == first["id"]
    assert set(first["wedding_ids"]) <= set(supplier.weddings.values_list("pk", flat=True))
    # Re-running changes nothing and keeps the tokens valid.
    again = SeedContext(
        stdout=io.StringIO(), quiet=True, previous=json.loads(json.dumps(ctx.credentials))
    )
    demo.seed(again)
    assert (Venue.objects.count(), Supplier.objects.count(), Wedding.objects.count()) == counts
    assert [s["token"] for s in again.credentials["suppliers"]] == [s["token"] for s in creds]
    # An admin's edits do not break a re-seed: a demo venue moved to a region of their own.
    from apps.weddings.models import Region

    moved = Venue.objects.first()
    moved.region = Region.objects.create(code="eu-test", name="EU", timezone="Europe/Paris")
    moved.save()
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    assert Venue.objects.count() == counts[0]


@pytest.mark.django_db
def test_peak_connections_sweep_counts_overlaps_not_sums(make_venue, make_wedding):
    from datetime import UTC, date, datetime, time

    a = make_wedding(venue=make_venue("banquet_hall"), day=date(2027, 6, 12),
                     start=time(11), end=time(15), expected_guests=100)  # fmt: skip
    b = make_wedding(venue=make_venue("banquet_hall"), day=date(2027, 6, 12),
                     start=time(14), end=time(20), expected_guests=200)  # fmt: skip
    c = make_wedding(venue=make_venue("banquet_hall"), day=date(2027, 6, 12),
                     start=time(15), end=time(23), expected_guests=300)  # fmt: skip
    days = insights.peak_connections_per_day(datetime(2027, 6, 12, tzinfo=UTC), days=3)
    # a and b overlap; b and c overlap; a ends when c starts: peak = max(a+b, b+c).
    assert days[0]["peak_connections"] == b.expected_connections + c.expected_connections
    assert days[0]["weddings"] == 3
    assert (
        a.expected_connections + b.expected_connections + c.expected_connections
        > days[0]["peak_connections"]
    )
    # c runs to 23:00 EDT = 03:00Z on the 13th: the next UTC day starts with it.
    assert days[1]["peak_connections"] == 0 or days[1]["peak_connections"] == c.expected_connections


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_calendar_page_draws_charts_and_lists_live_weddings(daphne, page, operator_user):
    seed()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    # Resource failures are checked by URL (the browser's own /favicon.ico probe is not ours).
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    login(page, daphne.url, operator_user.username)
    page.goto(f"{daphne.url}/calendar/")
    page.wait_for_selector("#chart-busiest-saturdays[data-drawn=true] .main-svg")
    for chart in ("by-region", "by-venue-type", "by-season", "peak-connections"):
        assert page.locator(f"#chart-{chart} .main-svg").count() >= 1, chart
    assert page.locator("#chart-by-region .legendtext").all_text_contents() != []
    legend = " ".join(page.locator("#chart-by-region .legendtext").all_text_contents())
    assert "US Northeast" in legend and "US West" in legend
    live_rows = page.locator("[data-testid=live-table] tbody tr")
    assert live_rows.count() >= 4
    assert int(page.locator("[data-testid=live-count]").inner_text()) == live_rows.count()
    assert page.locator("nav a[aria-current=page]").inner_text() == "Calendar"
    screenshot(page, "weddings-calendar")
    assert not errors, errors  # CSP violations and script errors show up here
