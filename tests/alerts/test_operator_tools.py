"""The alerts half of the operator's Saturday through the API: one guard for rule changes,
weddings at risk with their reasons, silences built from exact label values with a preview,
incident notes and phone numbers, and "send test" on a channel."""

from __future__ import annotations

import time

import pytest

from apps.alerts import engine, rules
from apps.alerts.models import Alert, AlertRule, NotificationChannel, Silence
from apps.weddings.models import EmergencyContact, Venue

pytestmark = pytest.mark.django_db


def fire(rule, value, **labels):
    now = time.time()
    engine.on_samples([(rule.metric, labels, now, float(value))], now=now)
    return Alert.objects.get(rule=rule, labels=labels)


# --- the one guard -------------------------------------------------------------------


def test_api_refuses_to_disable_a_rule_during_a_live_wedding(admin_api, make_rule, live_wedding):
    rule = make_rule(name="Redis down", metric="wedsync_redis_up", comparator="lt", threshold=1,
                     severity="critical")  # fmt: skip
    refused = admin_api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"enabled": False}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "wedding_day_freeze"
    assert "Ada & Grace" in body["detail"] and "Redis down" in body["detail"]
    rule.refresh_from_db()
    assert rule.enabled
    lowered = admin_api.patch(
        f"/api/v1/alert-rules/{rule.pk}/", {"severity": "info"}, format="json"
    )
    assert lowered.status_code == 409
    allowed = admin_api.patch(
        f"/api/v1/alert-rules/{rule.pk}/",
        {"enabled": False, "override_reason": "Redis replaced by the managed cluster"},
        format="json",
    )
    assert allowed.status_code == 200
    rule.refresh_from_db()
    assert not rule.enabled


@pytest.mark.parametrize(
    ("metric", "field", "value", "words"),
    [
        ("wedsync_cache_hit_ratio", "threshold", -0.2, "below 0"),
        ("wedsync_cache_hit_ratio", "threshold", 1.5, "above 1"),
        ("wedsync_cache_hit_ratio", "wedding_day_threshold", -1, "below 0"),
        ("wedsync_gateway_latency_ms", "threshold", -5, "below 0"),
        ("wedsync_gateway_error_rate", "threshold", 2, "above 1"),
    ],
)
def test_thresholds_outside_the_metrics_unit_are_refused(admin_api, metric, field, value, words):
    body = {"name": "r", "metric": metric, "comparator": "lt", "threshold": 0.5, field: value}
    response = admin_api.post("/api/v1/alert-rules/", body, format="json")
    assert response.status_code == 400
    assert words in response.json()[field][0]
    assert not AlertRule.objects.exists()


def test_units_come_from_the_metric_name():
    assert rules.unit_for("wedsync_cache_hit_ratio").label == "ratio 0–1"
    assert rules.unit_for("wedsync_gateway_latency_ms").label == "ms"
    assert rules.unit_for("wedsync_gateway_latency_ms", "count").label == "samples in the window"
    assert rules.rule_errors({"metric": "anything_custom", "threshold": -3}) == {}


def test_alerts_carry_their_units(operator_api, make_rule):
    rule = make_rule(metric="wedsync_gateway_latency_ms", threshold=100)
    fire(rule, 300, quantile="p99")
    (alert,) = operator_api.get("/api/v1/alerts/?state=firing").json()["results"]
    assert alert["unit"] == "ms"


# --- weddings at risk ------------------------------------------------------------------


def test_incident_on_a_wedding_puts_it_first(operator_api, two_live_weddings, make_rule):
    ada, bea, ballroom = two_live_weddings
    platform = make_rule(name="Redis down", metric="wedsync_redis_up", comparator="lt",
                         threshold=1, severity="critical")  # fmt: skip
    fire(platform, 0)
    rows = operator_api.get("/api/v1/weddings-at-risk/").json()["results"]
    assert {r["couple_name"] for r in rows} == {"Ada & Grace", "Bea & Cy"}
    assert all("platform-wide critical alert “Redis down” firing" in r["summary"] for r in rows)
    created = operator_api.post(
        "/api/v1/incidents/",
        {"emergency_type": "coordination_failure", "wedding": bea.pk, "reason": "planner offline"},
        format="json",
    )
    assert created.status_code == 201
    rows = operator_api.get("/api/v1/weddings-at-risk/").json()["results"]
    assert rows[0]["couple_name"] == "Bea & Cy"
    assert rows[0]["summary"].startswith(f"open incident #{created.json()['id']}")
    assert [r["kind"] for r in rows[0]["reasons"]] == ["incident", "alert"]


def test_alert_labels_point_at_the_weddings_they_touch(operator_api, two_live_weddings, make_rule):
    ada, bea, ballroom = two_live_weddings
    rule = make_rule(name="Venue latency", metric="wedsync_venue_latency_ms", threshold=100)
    fire(rule, 400, venue="Grand Ballroom, San Diego")  # by exact name
    fire(rule, 300, venue=str(ada.venue_id))  # by id
    fire(rule, 500, region="eu-north")  # a region with no live wedding
    alerts = {
        a["labels"].get("venue") or a["labels"].get("region"): a["weddings"]
        for a in operator_api.get("/api/v1/alerts/?state=firing").json()["results"]
    }
    assert [w["couple_name"] for w in alerts["Grand Ballroom, San Diego"]] == ["Bea & Cy"]
    assert [w["couple_name"] for w in alerts[str(ada.venue_id)]] == ["Ada & Grace"]
    assert alerts["eu-north"] == []
    filtered = operator_api.get("/api/v1/alerts/", {"venue": "Grand Ballroom, San Diego"}).json()
    assert [a["value"] for a in filtered["results"]] == [400]


def test_a_degraded_venue_is_a_reason(operator_api, two_live_weddings):
    ada, bea, ballroom = two_live_weddings
    Venue.objects.filter(pk=ballroom.pk).update(degraded=True)
    (row,) = operator_api.get("/api/v1/weddings-at-risk/").json()["results"]
    assert row["couple_name"] == "Bea & Cy"
    assert row["summary"] == "Grand Ballroom, San Diego is on its degraded connectivity profile"


# --- silences --------------------------------------------------------------------------


def test_preview_and_silence_match_a_value_with_a_comma_exactly(operator_api, make_rule):
    rule = make_rule(name="Venue latency", metric="wedsync_venue_latency_ms", threshold=100)
    fire(rule, 400, venue="Grand Ballroom, San Diego")
    fire(rule, 300, venue="Grand Ballroom")
    matchers = {"venue": "Grand Ballroom, San Diego"}
    preview = operator_api.post("/api/v1/silences/preview/", {"matchers": matchers}, format="json")
    assert preview.status_code == 200
    assert [a["labels"] for a in preview.json()["results"]] == [matchers]
    created = operator_api.post(
        "/api/v1/silences/",
        {"matchers": matchers, "duration_minutes": 30, "reason": "venue Wi-Fi work"},
        format="json",
    )
    assert created.status_code == 201
    assert Silence.objects.get().matchers == matchers
    silenced = {
        a["labels"]["venue"]: a["silenced_by"]
        for a in operator_api.get("/api/v1/alerts/?state=firing").json()["results"]
    }
    assert silenced["Grand Ballroom"] is None
    assert "venue Wi-Fi work" in silenced["Grand Ballroom, San Diego"]


def test_preview_refuses_bad_matchers_by_name(operator_api):
    response = operator_api.post(
        "/api/v1/silences/preview/", {"matchers": {"bad-label": "x"}}, format="json"
    )
    assert response.status_code == 400
    assert "bad-label" in str(response.json()["matchers"])


def test_label_catalogue_offers_real_values_and_venues(operator_api, make_rule, venue):
    rule = make_rule(name="Venue latency", metric="wedsync_venue_latency_ms", threshold=100)
    fire(rule, 400, venue="Grand Ballroom, San Diego", supplier="Lens & Light")
    body = operator_api.get("/api/v1/alert-labels/").json()
    assert body["values"]["venue"] == ["Grand Ballroom, San Diego"]
    assert body["values"]["supplier"] == ["Lens & Light"]
    assert "Venue latency" in body["values"]["alertname"]
    assert {"id": venue.pk, "name": "St Mary's Church", "timezone": "Europe/London"} in body[
        "venues"
    ]


# --- incidents and channels ------------------------------------------------------------


def test_incident_notes_and_phone_numbers(operator_api, live_wedding):
    EmergencyContact.objects.create(name="Venue manager", role="Manager", phone="+44 20 7946 0000",
                                    venue=live_wedding.venue)  # fmt: skip
    created = operator_api.post(
        "/api/v1/incidents/",
        {"emergency_type": "venue_network_failure", "wedding": live_wedding.pk, "reason": "wifi"},
        format="json",
    ).json()
    assert {"name": "Venue manager", "phone": "+44 20 7946 0000"}.items() <= created["contacts"][
        0
    ].items()
    unreachable = [e for e in created["timeline"] if e["kind"] == "contacts_unreachable"]
    assert "Venue manager (+44 20 7946 0000) — phone them" in unreachable[0]["message"]
    noted = operator_api.post(
        f"/api/v1/incidents/{created['id']}/notes/", {"text": "ISP ticket 4411"}, format="json"
    )
    assert noted.status_code == 201
    assert noted.json()["timeline"][-1]["message"] == "ISP ticket 4411"
    empty = operator_api.post(
        f"/api/v1/incidents/{created['id']}/notes/", {"text": "  "}, format="json"
    )
    assert empty.status_code == 400 and "text" in empty.json()


def test_send_test_reaches_a_webhook_and_reports_a_failure(operator_api, receiver):
    good = NotificationChannel.objects.create(name="Ops hook", kind="webhook", target=receiver.url)
    sent = operator_api.post(f"/api/v1/notification-channels/{good.pk}/test/")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert receiver.requests[0]["json"]["event"] == "test"
    assert receiver.requests[0]["headers"]["x-wedsync-event"] == "test"
    dead = NotificationChannel.objects.create(
        name="Dead hook", kind="webhook", target="http://127.0.0.1:9/hook"
    )
    failed = operator_api.post(f"/api/v1/notification-channels/{dead.pk}/test/").json()
    assert failed["status"] == "failed" and failed["error"]
