"""Widget data over the API: figures capped at ~1,000 points, live weddings, status."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.dashboards.wedding_day import ensure_wedding_day

pytestmark = pytest.mark.django_db


def test_a_day_of_5s_samples_reaches_the_browser_as_at_most_1000_points(operator_api, sample_doc):
    from apps.monitoring.ingest import ingest
    from apps.monitoring.rollups import rollup_all

    now = time.time()
    start = now - 86400
    rows = [
        {
            "name": "wedsync_gateway_latency_ms",
            "labels": {},
            "value": 20.0 + (i % 50),
            "ts": start + i * 5,
        }
        for i in range(17_280)
    ]
    rows[10_000]["value"] = 999.0  # one spike that must stay visible
    for i in range(0, len(rows), 10_000):
        ingest(rows[i : i + 10_000], now=now)
    rollup_all(now=now)
    operator_api.post("/api/v1/dashboards/import/", sample_doc, format="json")
    ids = {
        w["title"]: w["id"]
        for w in operator_api.get("/api/v1/dashboards/gateway-on-call/").json()["widgets"]
    }
    # The store aggregates per bucket as the query asks: "max" keeps a spike, "avg" smooths it.
    operator_api.patch(
        f"/api/v1/dashboard-widgets/{ids['Latency']}/",
        {"queries": [{"name": "wedsync_gateway_latency_ms", "agg": "max"}]},
        format="json",
    )
    for rng in ("1h", "24h"):
        body = operator_api.get(f"/api/v1/dashboards/gateway-on-call/data/?range={rng}").json()
        trace = body["widgets"][str(ids["Latency"])]["figure"]["data"][0]
        assert 0 < len(trace["x"]) <= 1000, rng
        assert trace["x"] == sorted(trace["x"])
    assert max(trace["y"]) == 999.0  # the 24 h view keeps the spike
    assert body["end"] - body["start"] == 86400


def test_live_weddings_by_region_and_status(operator_api, make_user):
    from apps.weddings.models import Region, Venue, Wedding

    ensure_wedding_day()
    uk = Region.objects.create(code="uk", name="United Kingdom", timezone="Europe/London")
    now = datetime.now(UTC)
    for couple, status in (
        ("Ada & Ben", "in_progress"),
        ("Cy & Di", "confirmed"),
        ("Ed & Flo", "cancelled"),
    ):
        venue = Venue.objects.create(
            name=f"Venue of {couple}", venue_type="church", region=uk, timezone="UTC"
        )
        Wedding.objects.create(
            venue=venue,
            date=(now - timedelta(minutes=30)).date(),
            ceremony_time=(now - timedelta(minutes=30)).time(),
            reception_end_time=(now + timedelta(hours=3)).time(),
            couple_name=couple,
            status=status,
        )
    body = operator_api.get("/api/v1/dashboards/wedding-day/data/?range=15m").json()
    weddings = next(w for w in body["widgets"].values() if "weddings" in w)["weddings"]
    assert weddings["total"] == 2
    assert weddings["by_region"] == [["United Kingdom", 2]]
    assert weddings["by_status"] == [["confirmed", 1], ["in_progress", 1]]
    status = next(w for w in body["widgets"].values() if "components" in w)["components"]
    assert [c["component"] for c in status] == [
        "Gateway", "Cache", "Redis", "PostgreSQL", "Celery workers", "Circuit breakers"
    ]  # fmt: skip


def test_known_metrics_for_the_editor(operator_api):
    from apps.monitoring.ingest import ingest

    ingest([{"name": "wedsync_redis_up", "labels": {}, "value": 1}])
    assert (
        "wedsync_redis_up"
        in operator_api.get("/api/v1/dashboards/known-metrics/").json()["metrics"]
    )
