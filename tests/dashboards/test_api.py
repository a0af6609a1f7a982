"""The dashboards REST API: CRUD, who may change what, export and import."""

from __future__ import annotations

import copy

import pytest

from apps.dashboards.models import Dashboard, Widget

pytestmark = pytest.mark.django_db


def test_import_export_round_trip(operator_api, sample_doc):
    r = operator_api.post("/api/v1/dashboards/import/", sample_doc, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["slug"] == "gateway-on-call"
    exported = operator_api.get("/api/v1/dashboards/gateway-on-call/export/").json()
    assert exported["format"] == "wedsync-dashboard/1"
    assert [w["title"] for w in exported["widgets"]] == [
        "Connections",
        "Latency",
        "Alerts",
        "Status",
    ]
    assert exported["widgets"][1]["thresholds"] == {"warn": 150, "crit": 300, "direction": "above"}
    assert exported["tags"] == ["gateway", "oncall"]
    # The same document again: refused by name (two "Gateway on call" could not be told
    # apart), nothing saved; under a new name it never overwrites: it gets a fresh slug.
    same = operator_api.post("/api/v1/dashboards/import/", exported, format="json")
    assert same.status_code == 400 and "exists already" in same.json()["name"]
    assert Dashboard.objects.filter(name="Gateway on call").count() == 1
    renamed = {**exported, "name": "Gateway on call (night shift)"}
    again = operator_api.post("/api/v1/dashboards/import/", renamed, format="json")
    assert again.status_code == 201 and again.json()["slug"] == "gateway-on-call-2"
    assert Widget.objects.filter(dashboard__slug="gateway-on-call-2").count() == 4


def test_bad_import_names_every_bad_field_and_saves_nothing(operator_api, sample_doc):
    doc = copy.deepcopy(sample_doc)
    doc["default_range"] = "3y"
    doc["widgets"][0]["width"] = 13
    doc["widgets"][1]["queries"][0]["name"] = "bad name!"
    doc["widgets"][1]["thresholds"] = {"warn": 500, "crit": 100, "direction": "above"}
    doc["widgets"][2]["kind"] = "pie"
    r = operator_api.post("/api/v1/dashboards/import/", doc, format="json")
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {
        "default_range",
        "widgets[0].width",
        "widgets[1].queries[0].name",
        "widgets[1].thresholds.warn",
        "widgets[2].kind",
    }
    assert Dashboard.objects.count() == 0 and Widget.objects.count() == 0
    assert operator_api.post("/api/v1/dashboards/import/", [1, 2], format="json").status_code == 400
    unknown = operator_api.post(
        "/api/v1/dashboards/import/", {**sample_doc, "format": "grafana/9"}, format="json"
    )
    assert "format" in unknown.json()


def test_widget_crud_and_validation(operator_api, sample_doc):
    operator_api.post("/api/v1/dashboards/import/", sample_doc, format="json")
    r = operator_api.post(
        "/api/v1/dashboard-widgets/",
        {
            "dashboard": "gateway-on-call",
            "kind": "chart",
            "title": "Hit ratio",
            "queries": [{"name": "wedsync_cache_hit_ratio", "matchers": {"tier": "total"}}],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    widget = r.json()
    assert widget["position"] == 4 and widget["queries"][0]["agg"] == "avg"
    r = operator_api.patch(
        f"/api/v1/dashboard-widgets/{widget['id']}/",
        {"width": 8, "title": "Cache hits"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["width"] == 8
    assert r.json()["queries"][0]["matchers"] == {"tier": "total"}  # untouched by PATCH
    bad = operator_api.patch(
        f"/api/v1/dashboard-widgets/{widget['id']}/", {"queries": []}, format="json"
    )
    assert bad.status_code == 400 and "queries" in bad.json()
    ids = [
        w["id"] for w in operator_api.get("/api/v1/dashboards/gateway-on-call/").json()["widgets"]
    ]
    order = [ids[-1], *ids[:-1]]
    assert (
        operator_api.post(
            "/api/v1/dashboards/gateway-on-call/reorder/", {"order": order}, format="json"
        ).status_code
        == 204
    )
    after = operator_api.get("/api/v1/dashboards/gateway-on-call/").json()["widgets"]
    assert [w["id"] for w in after] == order
    bad_order = operator_api.post(
        "/api/v1/dashboards/gateway-on-call/reorder/", {"order": [999999]}, format="json"
    )
    assert bad_order.status_code == 400 and "order" in bad_order.json()
    assert operator_api.delete(f"/api/v1/dashboard-widgets/{widget['id']}/").status_code == 204


def test_private_dashboards_are_the_owners(make_user, sample_doc):
    from rest_framework.test import APIClient

    owner, other = make_user("olga", "operator"), make_user("omar", "operator")
    a, b = APIClient(), APIClient()
    a.force_authenticate(owner)
    b.force_authenticate(other)
    a.post("/api/v1/dashboards/import/", {**sample_doc, "shared": False}, format="json")
    assert b.get("/api/v1/dashboards/gateway-on-call/").status_code == 404
    assert [d["slug"] for d in b.get("/api/v1/dashboards/").json()["results"]] == []
    assert a.get("/api/v1/dashboards/").json()["results"][0]["widget_count"] == 4
    nobody = make_user("sam", None)
    c = APIClient()
    c.force_authenticate(nobody)
    assert c.get("/api/v1/dashboards/").status_code == 403


def test_create_dashboard_gets_unique_slug(operator_api):
    r1 = operator_api.post("/api/v1/dashboards/", {"name": "Import"}, format="json")
    assert r1.status_code == 201 and r1.json()["slug"] == "import-2"  # "import" is a route
    r2 = operator_api.post("/api/v1/dashboards/", {"name": "Saturday"}, format="json")
    r3 = operator_api.post("/api/v1/dashboards/", {"name": "Saturday"}, format="json")
    assert (r2.json()["slug"], r3.json()["slug"]) == ("saturday", "saturday-2")
    renamed = operator_api.patch("/api/v1/dashboards/saturday/", {"slug": "import"}, format="json")
    assert renamed.status_code == 400 and "reserved" in renamed.json()["slug"][0]
    bad = operator_api.post(
        "/api/v1/dashboards/", {"name": "", "default_range": "9m"}, format="json"
    )
    assert bad.status_code == 400 and {"name", "default_range"} <= set(bad.json())


def test_data_rejects_bad_ranges(operator_api, sample_doc):
    operator_api.post("/api/v1/dashboards/import/", sample_doc, format="json")
    url = "/api/v1/dashboards/gateway-on-call/data/"
    assert "range" in operator_api.get(url + "?range=2h").json()
    assert "end" in operator_api.get(url + "?start=100").json()
    assert "end" in operator_api.get(url + "?start=200&end=100").json()
    assert "start" in operator_api.get(url + "?start=yesterday&end=100").json()


def test_schema_is_valid(admin_api):
    r = admin_api.get("/api/schema/?format=json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/dashboards/{slug}/data/" in paths
    assert "/api/v1/dashboards/import/" in paths
