"""Forecast parts: baseline from history, season of each region, weddings of the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.conf import settings

from apps.scaling import forecast

SATURDAY = date(2026, 6, 13)
DAY_START = datetime(2026, 6, 13, tzinfo=UTC)


def flat_history(value: float):
    """Every hour of the last weeks carried `value` connections (and a tenth as msgs/s)."""

    def history(metric, start, end):
        v = value if metric == forecast.CONNECTIONS_METRIC else value / 10
        hours = int((end - start) // forecast.HOUR)
        return [((start + i * forecast.HOUR).timestamp(), v) for i in range(hours)]

    return history


@pytest.mark.django_db
def test_a_june_saturday_wedding_raises_exactly_its_live_hours_in_venue_time(make_wedding):
    make_wedding(SATURDAY, time(14), time(22), connections=300)  # London: BST, UTC+1
    points = forecast.hourly(DAY_START, 48, history=flat_history(150))
    lead = settings.WEDSYNC["LIVE_LEAD_MINUTES"] // 60
    tail = settings.WEDSYNC["LIVE_TAIL_MINUTES"] // 60
    # 14:00-22:00 in London is 13:00-21:00 UTC; live from `lead` h before to `tail` h after.
    live_hours = set(range(13 - lead, 21 + tail))
    raised = {i for i, p in enumerate(points) if p.wedding_connections > 0}
    assert raised == live_hours
    for i, p in enumerate(points):
        expected_wedding = 300 if i in live_hours else 0
        assert p.wedding_connections == expected_wedding
        assert p.weddings_live == (1 if i in live_hours else 0)
        assert p.connections == pytest.approx(p.baseline_connections * p.season + expected_wedding)


@pytest.mark.django_db
def test_the_same_wedding_in_new_york_moves_the_raised_hours(make_wedding, london):
    from apps.weddings.models import Venue, Wedding

    venue = Venue.objects.create(
        name="Brooklyn Loft",
        venue_type="banquet_hall",
        region=london,
        timezone="America/New_York",
        capacity=10_000,
    )
    Wedding.objects.create(
        date=SATURDAY,
        ceremony_time=time(14),
        reception_end_time=time(22),
        venue=venue,
        couple_name="NY",
        expected_guests=571,  # 200 connections
    )
    points = forecast.hourly(DAY_START, 48, history=flat_history(150))
    raised = [i for i, p in enumerate(points) if p.wedding_connections]
    lead = settings.WEDSYNC["LIVE_LEAD_MINUTES"] // 60
    tail = settings.WEDSYNC["LIVE_TAIL_MINUTES"] // 60
    assert raised == list(range(18 - lead, 26 + tail))  # EDT is UTC-4


@pytest.mark.django_db
def test_cancelled_weddings_do_not_count(make_wedding):
    w = make_wedding(SATURDAY)
    w.status = "cancelled"
    w.save()
    points = forecast.hourly(DAY_START, 24, history=flat_history(150))
    assert all(p.wedding_connections == 0 for p in points)


@pytest.mark.django_db
def test_baseline_is_learnt_deseasonalised_and_reseasoned(london):
    # Four weeks of June history at 150 under a 1.5 peak multiplier: the baseline is 100.
    june = forecast.hourly(DAY_START, 24, history=flat_history(150))
    assert june[0].baseline_connections == pytest.approx(100)
    assert june[0].season == pytest.approx(1.5)
    assert june[0].connections == pytest.approx(150)
    # The same baseline in January (off season, 1.0) forecasts 100.
    baselines = forecast.Baselines.learn(DAY_START, flat_history(150))
    january = forecast.hourly(datetime(2027, 1, 9, tzinfo=UTC), 24, baselines=baselines)
    assert january[0].connections == pytest.approx(100)


@pytest.mark.django_db
def test_baseline_follows_the_hour_of_the_week(london):
    def history(metric, start, end):
        hours = int((end - start) // forecast.HOUR)
        rows = []
        for i in range(hours):
            at = start + i * forecast.HOUR
            busy = at.weekday() == 5 and 10 <= at.hour < 20  # Saturday daytime
            rows.append((at.timestamp(), 300.0 if busy else 60.0))
        return rows

    points = forecast.hourly(DAY_START, 24, history=history)
    assert points[12].baseline_connections == pytest.approx(200)  # 300 / 1.5
    assert points[3].baseline_connections == pytest.approx(40)


@pytest.mark.django_db
def test_history_weddings_are_taken_out_of_the_baseline(make_wedding):
    past_saturday = SATURDAY - timedelta(days=7)
    make_wedding(past_saturday, time(14), time(22), connections=300)

    def history(metric, start, end):
        w_start = datetime(2026, 6, 6, 11, tzinfo=UTC)
        w_end = datetime(2026, 6, 6, 22, tzinfo=UTC)
        hours = int((end - start) // forecast.HOUR)
        rows = []
        for i in range(hours):
            at = start + i * forecast.HOUR
            rows.append((at.timestamp(), 150.0 + (300 if w_start <= at < w_end else 0)))
        return rows

    points = forecast.hourly(DAY_START, 24, history=history)
    # Without the correction, 12:00 UTC would learn (4 × 150 + 300) / 4 / 1.5 = 150.
    assert points[12].baseline_connections == pytest.approx(100)


@pytest.mark.django_db
def test_daily_points_take_each_days_peak(make_wedding):
    make_wedding(SATURDAY, time(14), time(22), connections=300)
    days = forecast.daily(DAY_START - timedelta(days=1), 3, history=flat_history(150))
    assert [d.day for d in days] == ["2026-06-12", "2026-06-13", "2026-06-14"]
    assert days[1].peak_connections == pytest.approx(450)
    assert days[0].peak_connections == pytest.approx(150)
    assert days[1].parts_at_peak["weddings"] == 300


@pytest.mark.django_db
def test_forecast_api_returns_points_with_their_parts(operator_api, make_wedding):
    make_wedding(SATURDAY, time(14), time(22), connections=300)
    r = operator_api.get("/api/v1/scaling/forecast/?hours=48&start=2026-06-13T00:00:00Z")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["resolution"] == "hourly" and len(body["points"]) == 48
    noon = body["points"][12]
    assert noon["at"].startswith("2026-06-13T12:00")
    assert set(noon["parts"]) >= {"baseline", "season", "weddings"}
    assert noon["parts"]["weddings"] == 300
    assert noon["connections"] == pytest.approx(
        noon["parts"]["baseline"] * noon["parts"]["season"] + 300, rel=1e-3
    )
    r = operator_api.get("/api/v1/scaling/forecast/?days=30&start=2026-06-13T00:00:00Z")
    assert r.status_code == 200 and len(r.json()["days"]) == 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("hours=0", "hours"),
        ("hours=abc", "hours"),
        ("days=400", "days"),
        ("start=yesterday", "start"),
    ],
)
def test_forecast_api_names_the_bad_parameter(operator_api, query, field):
    r = operator_api.get(f"/api/v1/scaling/forecast/?{query}")
    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.django_db
def test_forecast_api_refuses_anonymous_and_suppliers(api_client):
    assert api_client.get("/api/v1/scaling/forecast/").status_code == 401
