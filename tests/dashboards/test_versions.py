"""Dashboard versions and restore, delete rights, and the Grafana-style time window."""

from __future__ import annotations

import time

import pytest

from apps.dashboards import timerange
from apps.dashboards.models import Dashboard
from apps.dashboards.wedding_day import ensure_wedding_day

pytestmark = pytest.mark.django_db


def titles(api, slug: str) -> list[str]:
    return [w["title"] for w in api.get(f"/api/v1/dashboards/{slug}/").json()["widgets"]]


def test_a_removed_widget_of_the_shared_dashboard_comes_back_from_its_versions(operator_api):
    ensure_wedding_day()
    seeded = titles(operator_api, "wedding-day")
    widgets = operator_api.get("/api/v1/dashboards/wedding-day/").json()["widgets"]
    gone = next(w for w in widgets if w["title"] == "Emergency")
    assert operator_api.delete(f"/api/v1/dashboard-widgets/{gone['id']}/").status_code == 204
    assert "Emergency" not in titles(operator_api, "wedding-day")

    history = operator_api.get("/api/v1/dashboards/wedding-day/versions/").json()
    # Newest first: the removal (by whom, what), then the seeded layout kept before it.
    assert [v["number"] for v in history] == [2, 1]
    assert history[0]["note"] == "widget removed: Emergency"
    assert history[0]["author"] == "oscar-operator"
    assert history[0]["widget_count"] == len(seeded) - 1
    assert history[1]["widget_count"] == len(seeded)

    r = operator_api.post("/api/v1/dashboards/wedding-day/versions/1/restore/")
    assert r.status_code == 200, r.content
    assert titles(operator_api, "wedding-day") == seeded
    newest = operator_api.get("/api/v1/dashboards/wedding-day/versions/").json()[0]
    assert newest["number"] == 3 and newest["note"] == "restored version 1"
    missing = operator_api.post("/api/v1/dashboards/wedding-day/versions/99/restore/")
    assert missing.status_code == 404 and "no version 99" in missing.json()["detail"]


def test_settings_and_reorder_are_versions_too(operator_api):
    ensure_wedding_day()
    operator_api.patch("/api/v1/dashboards/wedding-day/", {"default_range": "24h"}, format="json")
    ids = [w["id"] for w in operator_api.get("/api/v1/dashboards/wedding-day/").json()["widgets"]]
    operator_api.post(
        "/api/v1/dashboards/wedding-day/reorder/", {"order": ids[::-1]}, format="json"
    )
    notes = [v["note"] for v in operator_api.get("/api/v1/dashboards/wedding-day/versions/").json()]
    assert notes == ["widgets reordered", "settings changed", "before the first recorded change"]
    operator_api.post("/api/v1/dashboards/wedding-day/versions/1/restore/")
    restored = operator_api.get("/api/v1/dashboards/wedding-day/").json()
    assert restored["default_range"] == "6h"


def test_only_owner_or_admin_deletes_a_shared_dashboard(operator_api, admin_api, make_user):
    ensure_wedding_day()
    r = operator_api.delete("/api/v1/dashboards/wedding-day/")
    assert r.status_code == 403 and "owner or an admin" in r.json()["detail"]
    assert Dashboard.objects.filter(slug="wedding-day").exists()
    # An operator deletes their own dashboard.
    mine = operator_api.post("/api/v1/dashboards/", {"name": "Scratch"}, format="json").json()
    assert operator_api.delete(f"/api/v1/dashboards/{mine['slug']}/").status_code == 204
    assert admin_api.delete("/api/v1/dashboards/wedding-day/").status_code == 204


def test_grafana_style_window_in_the_data_api(operator_api):
    ensure_wedding_day()
    now = 1_780_000_000.0
    w = timerange.window({"from": "now-24h", "to": "now"}, now=now)
    assert (w.start, w.end, w.relative) == (now - 86400, now, True)
    w = timerange.window({"from": "now-2d", "to": "now"}, now=now)
    assert w.start == now - 2 * 86400 and w.relative
    w = timerange.window({"from": "1780000000000", "to": "1780003600000"}, now=now)
    assert (w.start, w.end, w.relative) == (1_780_000_000.0, 1_780_003_600.0, False)
    w = timerange.window({"from": "2026-06-13T12:00:00Z", "to": "2026-06-13T14:00:00Z"})
    assert w.end - w.start == 7200 and not w.relative

    t0 = time.time()
    r = operator_api.get("/api/v1/dashboards/wedding-day/data/?from=now-2d&to=now")
    assert r.status_code == 200
    assert r.json()["end"] - r.json()["start"] == pytest.approx(2 * 86400, abs=1)
    assert r.json()["end"] >= t0
    for query, field in (("from=now-2x&to=now", "from"), ("from=now&to=now-1h", "to")):
        bad = operator_api.get(f"/api/v1/dashboards/wedding-day/data/?{query}")
        assert bad.status_code == 400 and field in bad.json(), bad.content
    big = operator_api.get("/api/v1/dashboards/wedding-day/data/?from=now-60d&to=now")
    assert big.status_code == 400 and "31 days" in str(big.json())


def test_snapshot_carries_the_alerts_and_stream_numbers(operator_api):
    ensure_wedding_day()
    body = operator_api.get("/api/v1/dashboards/wedding-day/data/?range=1h&alerts=1").json()
    assert body["alerts"] == []  # calm: the alert tiles need no request of their own
    assert body["seqs"] and all(isinstance(v, int) for v in body["seqs"].values())
