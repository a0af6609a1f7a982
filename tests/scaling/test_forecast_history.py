"""Issue 15: with too little history the forecast says so and uses the calendar alone
(7 learnt hours once filled all 168 hours of the week)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.scaling import forecast

pytestmark = pytest.mark.django_db


def record_history(hours: int, value: float) -> None:
    """The gateway's connections as the monitor recorded them, one sample an hour."""
    from apps.monitoring.ingest import ingest

    now = time.time()
    ingest(
        [
            {"name": forecast.CONNECTIONS_METRIC, "labels": {}, "value": value,
             "ts": now - (i + 1) * 3600}
            for i in range(hours)
        ]
    )  # fmt: skip
    from apps.monitoring.rollups import rollup_all

    rollup_all()  # the hourly averages, as the periodic rollup job writes them


def hourly_forecast(api) -> dict:
    response = api.get("/api/v1/scaling/forecast/?hours=168")
    assert response.status_code == 200, response.content
    return response.json()


def test_seven_hours_of_history_are_not_a_week_and_the_forecast_says_so(
    operator_api, client, make_user
):
    record_history(7, 900.0)
    body = hourly_forecast(operator_api)
    assert body["history"]["enough"] is False
    assert body["history"]["basis"] == "calendar only"
    assert body["history"]["learnt_hours"] == 7
    assert "Too little history" in body["history"]["note"]
    # No wedding registered: nothing to forecast at any hour of the week.
    assert {p["connections"] for p in body["points"]} == {0}
    assert {p["parts"]["baseline"] for p in body["points"]} == {0}

    client.force_login(make_user("forecast-reader", "operator"))
    page = client.get("/scaling/").content.decode()
    assert "Forecast basis: calendar only." in page and "Too little history" in page


def test_with_enough_history_the_baseline_is_learnt():
    def history(metric, start, end):  # a week of hourly averages (the monitor's rollups)
        return [((end - timedelta(hours=i + 1)).timestamp(), 300.0) for i in range(7 * 24)]

    at = datetime(2026, 1, 13, tzinfo=UTC)
    baselines = forecast.Baselines.learn(at, history)
    assert baselines.describe()["enough"] is True
    assert baselines.describe()["basis"] == "history and calendar"
    assert all(p.connections > 0 for p in forecast.hourly(at, 168, baselines=baselines))


def test_the_calendar_alone_still_forecasts_a_wedding(make_wedding):
    from datetime import date
    from datetime import time as clock

    make_wedding(date(2026, 6, 13), clock(14), clock(22), connections=300)
    points = forecast.hourly(datetime(2026, 6, 13, tzinfo=UTC), 24, history=lambda *a: [])
    assert max(p.connections for p in points) == 300
    assert points[0].connections == 0
    assert (
        forecast.Baselines.learn(datetime(2026, 6, 13, tzinfo=UTC), lambda *a: []).describe()[
            "basis"
        ]
        == "calendar only"
    )
