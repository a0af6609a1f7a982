"""Regression tests for the bad input the fuzzers found (issue 15, docs/proof.md).

Each answered 500 before its fix. Every one here asserts what a caller sees: a 4xx whose
body names the field that was wrong, and that the stored record did not change.
"""

from __future__ import annotations

import json

import pytest
from django.forms.models import model_to_dict

pytestmark = pytest.mark.django_db


def _errors_name(response, field: str) -> None:
    """The refusal is a 4xx whose body names `field` (as a key or in its text)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert field in response.content.decode(), response.content[:500]


@pytest.fixture
def paging_rule(db):
    from apps.alerts.models import AlertRule, EscalationLevel, EscalationPolicy, NotificationChannel

    hook = NotificationChannel.objects.create(
        name="pager", kind="webhook", target="https://hooks.example.com/x"
    )
    policy = EscalationPolicy.objects.create(name="page on-call")
    EscalationLevel.objects.create(policy=policy, order=0, delay_seconds=60).channels.set([hook])
    return AlertRule.objects.create(
        name="Gateway down",
        metric="wedsync_gateway_up",
        aggregation="last",
        window_seconds=60,
        comparator="lt",
        threshold=1.0,
        severity="critical",
        escalation_policy=policy,
    )


def _levels(policy) -> list[tuple]:
    return [
        (lv.order, lv.delay_seconds, sorted(lv.channels.values_list("pk", flat=True)))
        for lv in policy.levels.all()
    ]


# --- a JSON body that is not an object ----------------------------------------------


@pytest.mark.parametrize("body", [[], [{"enabled": False}], "enabled", 3, None, True])
def test_patch_alert_rule_with_a_non_object_body_is_refused(admin_api, paging_rule, body):
    # Was: AttributeError: 'list' object has no attribute 'get' (500).
    before = model_to_dict(paging_rule)
    response = admin_api.patch(
        f"/api/v1/alert-rules/{paging_rule.pk}/",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "JSON object" in response.json()["detail"]
    paging_rule.refresh_from_db()
    assert model_to_dict(paging_rule) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/alert-rules/",
        "/api/v1/silences/",
        "/api/v1/escalation-policies/",
        "/api/v1/venues/",
        "/api/v1/weddings/",
        "/api/v1/scaling/policies/",
        "/api/v1/dashboards/import/",
        "/api/v1/realtime/publish/",
    ],
)
def test_posting_a_json_list_is_a_400_everywhere(admin_api, path):
    response = admin_api.post(path, data=[{"name": "x"}], format="json", HTTP_ACCEPT="*/*")
    assert response.status_code == 400, (path, response.content[:300])


# --- escalation levels: nested rows must be whole ---------------------------------


@pytest.mark.parametrize(
    "levels",
    [
        [{"order": 0, "delay_seconds": 0}],  # was: KeyError: 'channels' (500)
        [{"channels": "x"}],
        [{"channels": [10**12]}],
        [7],
        {"channels": []},
        "levels",
    ],
)
def test_patch_escalation_levels_with_bad_rows_is_refused(admin_api, paging_rule, levels):
    policy = paging_rule.escalation_policy
    before = _levels(policy)
    response = admin_api.patch(
        f"/api/v1/escalation-policies/{policy.pk}/", data={"levels": levels}, format="json"
    )
    _errors_name(response, "levels")
    assert _levels(policy) == before


def test_patch_escalation_levels_names_the_missing_key(admin_api, paging_rule):
    policy = paging_rule.escalation_policy
    response = admin_api.patch(
        f"/api/v1/escalation-policies/{policy.pk}/",
        data={"levels": [{"order": 0, "delay_seconds": 5}]},
        format="json",
    )
    assert response.status_code == 400
    assert "channels" in str(response.json()["levels"]), response.json()


def test_patch_escalation_levels_with_whole_rows_replaces_them(admin_api, paging_rule):
    policy = paging_rule.escalation_policy
    channel = policy.levels.first().channels.first()
    response = admin_api.patch(
        f"/api/v1/escalation-policies/{policy.pk}/",
        data={"levels": [{"delay_seconds": 30, "channels": [channel.pk]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert _levels(policy) == [(0, 30, [channel.pk])]


# --- scaling policies: actuators is a list of known names --------------------------


@pytest.fixture
def web_policy(db):
    from apps.scaling.models import ScalingPolicy

    return ScalingPolicy.objects.create(
        pool="web", capacity_per_unit=100, baseline_units=2, min_units=1, actuators=["gauges"]
    )


@pytest.mark.parametrize("method", ["patch", "put"])
def test_multipart_actuators_true_is_refused(admin_api, web_policy, method):
    # Was: TypeError: 'bool' object is not iterable (500), in ScalingPolicy.clean().
    before = model_to_dict(web_policy)
    body = {"pool": "web", "capacity_per_unit": "100", "actuators": "true"}
    response = getattr(admin_api, method)(
        f"/api/v1/scaling/policies/{web_policy.pk}/", data=body, format="multipart"
    )
    _errors_name(response, "actuators")
    web_policy.refresh_from_db()
    assert model_to_dict(web_policy) == before


@pytest.mark.parametrize("actuators", [True, 3, "gauges", {"gauges": 1}, [1], [["gauges"]]])
def test_json_actuators_of_the_wrong_type_are_refused(admin_api, web_policy, actuators):
    response = admin_api.patch(
        f"/api/v1/scaling/policies/{web_policy.pk}/",
        data={"actuators": actuators},
        format="json",
    )
    _errors_name(response, "actuators")
    web_policy.refresh_from_db()
    assert web_policy.actuators == ["gauges"]


def test_model_clean_refuses_actuators_that_are_not_a_list(db):
    # The same guard serves Django admin (a JSON form field) and the API.
    from django.core.exceptions import ValidationError

    from apps.scaling.models import ScalingPolicy

    for bad in (True, 3, "gauges", {"a": 1}, [1]):
        policy = ScalingPolicy(pool="web", capacity_per_unit=10, baseline_units=2, actuators=bad)
        with pytest.raises(ValidationError) as exc:
            policy.clean()
        assert "actuators" in exc.value.message_dict


# --- NUL bytes reaching PostgreSQL (found by schemathesis on the seeded full stack) -------


@pytest.fixture
def venue(db):
    from apps.weddings.models import Region, Venue

    region = Region.objects.create(code="nul-uk", name="UK", timezone="Europe/London")
    return Venue.objects.create(
        name="St Nul", venue_type="church", region=region, timezone="Europe/London"
    )


def test_a_nul_byte_in_a_related_slug_is_refused_by_name(admin_api, venue):
    # Was: psycopg.DataError "text fields cannot contain NUL (0x00) bytes" (500).
    before = model_to_dict(venue)
    response = admin_api.patch(
        f"/api/v1/venues/{venue.pk}/", data={"region": "uk\x00"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "region" in response.json(), response.json()
    venue.refresh_from_db()
    assert model_to_dict(venue) == before


def test_a_nul_byte_in_a_widget_dashboard_slug_is_refused_by_name(admin_api):
    response = admin_api.post(
        "/api/v1/dashboard-widgets/",
        data={"dashboard": "\x00", "kind": "status", "title": "x"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "dashboard" in response.json(), response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/regions/%00/",
        "/api/v1/dashboards/%00/",
        "/api/v1/weddings/?region=%00",
        "/api/v1/venues/?region=%00",
        "/api/v1/alert-rules/?metric=%00",
    ],
)
def test_a_nul_byte_in_a_lookup_or_filter_is_a_4xx(admin_api, venue, path):
    response = admin_api.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content[:300])


# --- found by the schemathesis pass and the admin junk pass (docs/proof.md) ---------------


@pytest.mark.parametrize("default_range", [[], ["1h"], {"1h": 1}])
def test_dashboard_import_with_a_non_string_default_range_is_refused(admin_api, default_range):
    # Was: TypeError: unhashable type: 'list' in specs.clean_dashboard (500).
    from apps.dashboards.models import Dashboard

    count = Dashboard.objects.count()
    response = admin_api.post(
        "/api/v1/dashboards/import/",
        data={"name": "Imported", "default_range": default_range},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "default_range" in response.json(), response.json()
    assert Dashboard.objects.count() == count


def test_alerts_cannot_be_added_by_hand_in_admin(db):
    # Was: every field of an alert is read-only, so "Add alert" saved an empty row and
    # answered 500 (IntegrityError: rule_id is null). Alerts come from rule evaluation.
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("root-alerts", "r@example.com", "pw-pw-pw-1"))
    assert client.get("/admin/alerts/alert/add/").status_code == 403
    assert client.post("/admin/alerts/alert/add/", {}).status_code == 403
    assert client.get("/admin/alerts/alert/").status_code == 200


@pytest.mark.parametrize("junk", ["9" * 5000, "[" * 100_000 + "]" * 100_000])
@pytest.mark.parametrize(
    "url, field",
    [
        ("/admin/monitoring/scrapetarget/add/", "labels"),
        ("/admin/alerts/maintenancewindow/add/", "matchers"),
        ("/admin/dashboards/widget/add/", "queries"),
    ],
)
def test_admin_json_fields_refuse_numbers_and_nesting_json_cannot_hold(db, url, field, junk):
    # Was: Django's forms.JSONField lets json.loads' ValueError (an integer of more than
    # 4,300 digits) and RecursionError through: 500 (found by test_admin_junk.py).
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("root-json", "j@example.com", "pw-pw-pw-1"))
    response = client.post(url, {field: junk})
    assert response.status_code == 200, response.status_code
    errors = response.context["adminform"].form.errors
    assert field in errors, errors


def test_scaling_policies_stored_with_falsy_non_list_actuators_still_list(admin_api, web_policy):
    # Before the fix `actuators=0.0` (a form value read as JSON) passed clean() (`0.0 or []`)
    # and was stored; reading the list then raised TypeError (500) on the seeded stack.
    from apps.scaling.models import ScalingPolicy

    ScalingPolicy.objects.filter(pk=web_policy.pk).update(actuators=0.0)
    response = admin_api.get("/api/v1/scaling/policies/")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"][0]["actuators"] == []


def test_an_ownerless_dashboard_matches_the_published_schema(admin_api):
    # Found by schemathesis on the seeded stack: seed_demo's dashboards have no owner, the
    # API answers "owner": null, and the schema said a string (response_schema_conformance).
    from drf_spectacular.generators import SchemaGenerator

    from apps.dashboards.models import Dashboard

    Dashboard.objects.create(name="Shared ops", slug="shared-ops", shared=True)
    body = admin_api.get("/api/v1/dashboards/").json()
    assert body["results"][0]["owner"] is None
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert components["DashboardList"]["properties"]["owner"].get("nullable") is True
    assert components["Dashboard"]["properties"]["owner"].get("nullable") is True
