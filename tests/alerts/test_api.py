"""The alerts API as a caller uses it: permissions, filters, bad input named by field."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.alerts import engine
from apps.alerts.models import Alert, AlertRule, Incident, Notification, Silence

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Gateway p99 latency",
    "metric": "wedsync_gateway_latency_ms",
    "matchers": {"quantile": "p99"},
    "aggregation": "avg",
    "window_seconds": 60,
    "comparator": "gt",
    "threshold": 250,
    "wedding_day_threshold": 150,
    "for_seconds": 30,
    "severity": "critical",
}


def fire(rule, value=999.0, **labels):
    import time

    now = time.time()
    engine.on_samples([(rule.metric, labels or {"quantile": "p99"}, now, value)], now=now)
    return Alert.objects.filter(rule=rule).first()


def test_admin_creates_a_rule_operator_may_only_read(admin_api, operator_api):
    created = admin_api.post("/api/v1/alert-rules/", RULE, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["wedding_day_threshold"] == 150
    assert operator_api.get("/api/v1/alert-rules/").json()["count"] == 1
    refused = operator_api.post("/api/v1/alert-rules/", {**RULE, "name": "x"}, format="json")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metric", "not a metric!"),
        ("aggregation", "median"),
        ("comparator", "eq"),
        ("window_seconds", 0),
        ("window_seconds", 999999),
        ("matchers", {"bad-label": "x"}),
        ("matchers", ["quantile"]),
        ("threshold", "high"),
        ("severity", "apocalyptic"),
        ("escalation_policy", 9999),
        ("emergency_type", "meteor"),
    ],
)
def test_bad_rule_input_names_the_field(admin_api, field, value):
    response = admin_api.post("/api/v1/alert-rules/", {**RULE, field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not AlertRule.objects.exists()


def test_deleting_or_disabling_a_rule_during_a_live_wedding_needs_an_admin_reason(
    admin_api, live_wedding
):
    rule_id = admin_api.post("/api/v1/alert-rules/", RULE, format="json").json()["id"]
    url = f"/api/v1/alert-rules/{rule_id}/"
    refused = admin_api.delete(url)
    assert refused.status_code == 409
    assert "Ada & Grace" in refused.json()["detail"]
    refused = admin_api.patch(url, {"enabled": False}, format="json")
    assert refused.status_code == 409
    assert AlertRule.objects.get(pk=rule_id).enabled
    allowed = admin_api.patch(
        url, {"enabled": False, "override_reason": "noisy rule during a ceremony"}, format="json"
    )
    assert allowed.status_code == 200 and allowed.json()["enabled"] is False
    assert admin_api.delete(url + "?override_reason=replaced").status_code == 204


def test_rule_can_be_deleted_freely_when_no_wedding_is_live(admin_api):
    rule_id = admin_api.post("/api/v1/alert-rules/", RULE, format="json").json()["id"]
    assert admin_api.delete(f"/api/v1/alert-rules/{rule_id}/").status_code == 204


def test_alert_list_filters_by_state_and_rule_and_refuses_unknown_states(operator_api, make_rule):
    hot = make_rule(threshold=10)
    cold = make_rule(threshold=10**6)
    fire(hot)
    fire(cold)
    body = operator_api.get("/api/v1/alerts/?state=firing").json()
    assert [a["rule"] for a in body["results"]] == [hot.pk]
    assert body["results"][0]["rule_name"] == hot.name
    assert operator_api.get(f"/api/v1/alerts/?rule={cold.pk}").json()["count"] == 0
    bad = operator_api.get("/api/v1/alerts/?state=burning")
    assert bad.status_code == 400 and "state" in bad.json()


def test_acknowledge_records_who_when_and_why_then_unacknowledge(
    operator_api, operator_user, make_rule
):
    alert = fire(make_rule(threshold=10))
    url = f"/api/v1/alerts/{alert.pk}/"
    acked = operator_api.post(url + "acknowledge/", {"comment": "on it"}, format="json")
    assert acked.status_code == 200, acked.json()
    assert acked.json()["acknowledged_by"] == operator_user.username
    assert acked.json()["ack_comment"] == "on it"
    assert operator_api.post(url + "acknowledge/", {}, format="json").status_code == 409
    detail = operator_api.get(url).json()
    assert [t["note"] for t in detail["transitions"]][-1] == "acknowledged: on it"
    assert detail["transitions"][-1]["actor"] == operator_user.username
    assert operator_api.post(url + "unacknowledge/").json()["acknowledged"] is False


def test_acknowledging_needs_an_operator(api_client, make_user, make_rule):
    alert = fire(make_rule(threshold=10))
    api_client.force_authenticate(make_user("nobody", None))
    assert api_client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 403


def test_silence_validation_and_effect_on_the_alert_list(operator_api, make_rule):
    rule = make_rule(threshold=10, name="Latency")
    bad = operator_api.post(
        "/api/v1/silences/", {"matchers": {}, "reason": "x", "duration_minutes": 5}, format="json"
    )
    assert bad.status_code == 400 and "matchers" in bad.json()
    bad = operator_api.post(
        "/api/v1/silences/", {"matchers": {"alertname": "Latency"}, "reason": "x"}, format="json"
    )
    assert bad.status_code == 400 and "ends_at" in bad.json()
    bad = operator_api.post(
        "/api/v1/silences/",
        {"matchers": {"alertname": "Latency"}, "duration_minutes": 5},
        format="json",
    )
    assert bad.status_code == 400 and "reason" in bad.json()
    ok = operator_api.post(
        "/api/v1/silences/",
        {"matchers": {"alertname": "Latency"}, "reason": "deploying", "duration_minutes": 30},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    fire(rule)
    listed = operator_api.get("/api/v1/alerts/?state=firing").json()["results"][0]
    assert listed["silenced_by"].startswith(f"silence #{ok.json()['id']}")
    assert operator_api.delete(f"/api/v1/silences/{ok.json()['id']}/").status_code == 204
    assert not Silence.objects.get().active_at(timezone.now())
    listed = operator_api.get("/api/v1/alerts/?state=firing").json()["results"][0]
    assert listed["silenced_by"] is None


def test_maintenance_window_validation(admin_api):
    base = {
        "name": "Tuesday patching",
        "timezone": "Europe/London",
        "start_time": "02:00",
        "duration_minutes": 90,
        "weekdays": [2],
    }
    assert admin_api.post("/api/v1/maintenance-windows/", base, format="json").status_code == 201
    for field, value in [
        ("timezone", "Mars/Olympus"),
        ("weekdays", [0, 8]),
        ("duration_minutes", 0),
        ("start_time", "25:00"),
    ]:
        response = admin_api.post(
            "/api/v1/maintenance-windows/", {**base, field: value}, format="json"
        )
        assert response.status_code == 400 and field in response.json(), (field, response.json())


def test_escalation_policy_with_levels_and_channels(admin_api):
    bad = admin_api.post(
        "/api/v1/notification-channels/",
        {"name": "ops", "channel_kind": "email", "target": "not-an-address"},
        format="json",
    )
    assert bad.status_code == 400 and "target" in bad.json()
    email = admin_api.post(
        "/api/v1/notification-channels/",
        {"name": "ops", "channel_kind": "email", "target": "ops@example.com"},
        format="json",
    ).json()
    hook = admin_api.post(
        "/api/v1/notification-channels/",
        {
            "name": "pager",
            "channel_kind": "webhook",
            "target": "https://pager.example.com/hook",
            "secret": "s3cret",
        },
        format="json",
    ).json()
    assert hook["has_secret"] is True and "secret" not in hook
    policy = admin_api.post(
        "/api/v1/escalation-policies/",
        {
            "name": "Wedding day",
            "levels": [
                {"delay_seconds": 0, "channels": [email["id"]]},
                {"delay_seconds": 300, "repeat_count": 2, "channels": [hook["id"]]},
            ],
        },
        format="json",
    )
    assert policy.status_code == 201, policy.json()
    assert [lvl["order"] for lvl in policy.json()["levels"]] == [0, 1]
    bad = admin_api.post(
        "/api/v1/escalation-policies/", {"name": "empty", "levels": []}, format="json"
    )
    assert bad.status_code == 400 and "levels" in bad.json()


def test_operator_triggers_an_emergency_with_a_playbook(operator_api, live_wedding, venue):
    from apps.weddings.models import EmergencyContact

    EmergencyContact.objects.create(name="Venue manager", email="vm@example.com", venue=venue)
    EmergencyContact.objects.create(
        name="Planner", email="pl@example.com", wedding=live_wedding, order=1
    )
    EmergencyContact.objects.create(name="On-call", email="oncall@example.com", order=0)
    EmergencyContact.objects.create(name="Verger", phone="+44 1234", venue=venue)
    response = operator_api.post(
        "/api/v1/incidents/",
        {
            "emergency_type": "venue_network_failure",
            "wedding": live_wedding.pk,
            "reason": "Church wifi down",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["venue"] == venue.pk and body["status"] == "open"
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[:3] == ["triggered", "playbook", "contacts_notified"]
    assert "venue_degraded" in kinds
    # the scaling manager was asked for emergency capacity, with the incident as its reason
    assert kinds[-1] == "capacity_requested"
    from apps.scaling.models import EmergencyCapacity

    request = EmergencyCapacity.objects.get()
    assert "Church wifi down" in request.reason and request.until is not None
    contacted = body["timeline"][2]["message"]
    assert (
        contacted.index("Planner") < contacted.index("Venue manager") < contacted.index("On-call")
    )
    assert "Verger" in body["timeline"][kinds.index("contacts_unreachable")]["message"]
    venue.refresh_from_db()
    assert venue.degraded is True
    assert set(Notification.objects.values_list("target", flat=True)) == {
        "vm@example.com",
        "pl@example.com",
        "oncall@example.com",
    }
    resolved = operator_api.post(
        f"/api/v1/incidents/{body['id']}/resolve/", {"note": "back"}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    venue.refresh_from_db()
    assert venue.degraded is False


def test_bad_emergency_input_names_the_field(operator_api):
    for payload, field in [
        ({"emergency_type": "meteor", "reason": "x"}, "emergency_type"),
        ({"emergency_type": "latency_spike"}, "reason"),
        ({"emergency_type": "venue_network_failure", "reason": "x"}, "venue"),
        ({"emergency_type": "latency_spike", "reason": "x", "venue": 424242}, "venue"),
    ]:
        response = operator_api.post("/api/v1/incidents/", payload, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()
    assert not Incident.objects.exists()


def test_schema_covers_the_alerts_api(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/alert-rules/",
        "/api/v1/alerts/{id}/acknowledge/",
        "/api/v1/silences/",
        "/api/v1/maintenance-windows/",
        "/api/v1/escalation-policies/",
        "/api/v1/incidents/",
    ):
        assert path in schema


def test_demo_seed_is_idempotent_and_its_rules_are_valid(admin_api):
    import io

    from apps.accounts.seeding import SeedContext
    from apps.alerts import demo
    from apps.alerts.models import EscalationPolicy
    from apps.alerts.serializers import AlertRuleSerializer

    ctx = SeedContext(stdout=io.StringIO(), quiet=True)
    demo.seed(ctx)
    demo.seed(ctx)
    assert AlertRule.objects.count() == len(demo.RULES)
    assert EscalationPolicy.objects.get().levels.count() == 2
    names = set(AlertRule.objects.values_list("name", flat=True))
    assert {"Gateway p99 latency high", "Redis down", "Collection silent"} <= names
    for rule in AlertRule.objects.all():
        data = AlertRuleSerializer(rule).data
        data.pop("id")
        data["name"] += " copy"
        check = AlertRuleSerializer(data=data)
        assert check.is_valid(), (rule.name, check.errors)
