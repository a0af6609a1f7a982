"""The policies, decisions and emergency API: roles, bad configuration, schema."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.scaling import services
from apps.scaling.models import ScalingPolicy

GOOD = {"pool": "web", "capacity_per_unit": 100, "baseline_units": 2, "min_units": 1}


@pytest.mark.django_db
def test_admin_creates_a_policy_and_operator_reads_it(admin_api, operator_api):
    r = admin_api.post("/api/v1/scaling/policies/", GOOD, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["effective_max_units"] == 20  # 10 x baseline
    assert "webhook_secret" not in r.json()
    assert operator_api.get("/api/v1/scaling/policies/").json()["count"] == 1
    assert operator_api.post("/api/v1/scaling/policies/", GOOD, format="json").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"min_units": 30, "max_units": 10}, "min_units", "greater than maximum"),
        ({"capacity_per_unit": 0}, "capacity_per_unit", "greater than zero"),
        ({"max_units": 25}, "max_units", "10 × baseline"),
        ({"emergency_units": 50}, "emergency_units", "between"),
        ({"target_utilisation_low": 0.9}, "target_utilisation_high", "low"),
        ({"actuators": ["celery"]}, "actuators", "worker pools only"),
        ({"actuators": ["webhook"]}, "webhook_url", "URL and a signing secret"),
        ({"actuators": ["kubectl"]}, "actuators", "Unknown actuator"),
    ],
)
def test_bad_configuration_is_refused_with_the_field_named(admin_api, change, field, words):
    r = admin_api.post("/api/v1/scaling/policies/", {**GOOD, **change}, format="json")
    assert r.status_code == 400
    assert words in " ".join(r.json()[field])
    assert not ScalingPolicy.objects.exists()


@pytest.mark.django_db
def test_a_partial_update_is_checked_against_the_stored_values(admin_api, web_policy):
    r = admin_api.patch(
        f"/api/v1/scaling/policies/{web_policy.pk}/", {"min_units": 21}, format="json"
    )
    assert r.status_code == 400 and "min_units" in r.json()
    web_policy.refresh_from_db()
    assert web_policy.min_units == 1


@pytest.mark.django_db
def test_the_model_refuses_bad_configuration_from_code_too(db):
    with pytest.raises(ValidationError) as err:
        ScalingPolicy.objects.create(pool="web", capacity_per_unit=0, baseline_units=2)
    assert "capacity_per_unit" in err.value.message_dict


@pytest.mark.django_db
def test_decisions_are_listed_with_filters(operator_api, web_policy, worker_policy):
    services.run_tick()
    body = operator_api.get("/api/v1/scaling/decisions/?pool=web").json()
    assert body["count"] == 1
    d = body["results"][0]
    assert {"rule", "inputs", "outcome", "current_units", "desired_units"} <= set(d)


@pytest.mark.django_db(transaction=True)
def test_operator_requests_and_ends_emergency_capacity(operator_api, web_policy):
    r = operator_api.post("/api/v1/scaling/emergency/", {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = operator_api.post("/api/v1/scaling/emergency/", {"reason": "venue down"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()[0]["rule"] == "emergency" and r.json()[0]["desired_units"] == 15
    assert operator_api.post("/api/v1/scaling/emergency/end/").json() == {"ended": 1}


@pytest.mark.django_db
def test_schema_is_valid(admin_api):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/v1/scaling/forecast/" in schema["paths"]
    assert "/api/v1/scaling/decisions/" in schema["paths"]
