"""Alertmanager API v2 intake (what Prometheus posts) and the Alertmanager webhook out."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from apps.alerts import alertmanager, conf, notify
from apps.alerts.models import (
    Alert,
    AlertRoute,
    AlertTransition,
    EscalationLevel,
    EscalationPolicy,
    Notification,
    NotificationChannel,
    Silence,
)
from apps.monitoring.permissions import INGESTERS

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/alertmanager/api/v2/alerts"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def sender(client, make_user):
    user = make_user("prometheus-sender", role=None)
    user.groups.add(Group.objects.get_or_create(name=INGESTERS)[0])
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {Token.objects.create(user=user).key}"
    return client


def post(client, alerts):
    return client.post(URL, orjson.dumps(alerts), content_type="application/json")


def prom_alert(name="HighLatency", ends_in=180, **labels):
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": "p95 over 500 ms"},
        "startsAt": iso(now - timedelta(seconds=30)),
        "endsAt": iso(now + timedelta(seconds=ends_in)),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
    }


def policy_to(receiver_url: str, name: str) -> EscalationPolicy:
    channel = NotificationChannel.objects.create(
        name=f"am-{name}", kind="alertmanager", target=receiver_url
    )
    policy = EscalationPolicy.objects.create(name=name)
    level = EscalationLevel.objects.create(policy=policy, order=0, delay_seconds=0)
    level.channels.add(channel)
    return policy


def test_alerts_are_deduplicated_by_label_set_and_resolved_by_a_past_ends_at(sender):
    assert post(sender, [prom_alert(instance="a"), prom_alert(instance="b")]).status_code == 200
    assert post(sender, [prom_alert(instance="a")]).status_code == 200  # a repeat
    alerts = Alert.objects.filter(rule__name="HighLatency")
    assert alerts.count() == 2
    assert set(alerts.values_list("state", flat=True)) == {"firing"}
    assert alerts.get(labels__instance="a").rule.kind == "external"
    resolved = prom_alert(instance="a", ends_in=-1)
    assert post(sender, [resolved]).status_code == 200
    assert alerts.get(labels__instance="a").state == "resolved"
    assert alerts.get(labels__instance="b").state == "firing"
    listed = sender.get(URL).json()
    assert [a["labels"]["instance"] for a in listed] == ["b"]
    assert listed[0]["annotations"] == {"summary": "p95 over 500 ms"}
    assert listed[0]["status"]["state"] == "active"


def test_the_resolve_timeout_resolves_an_alert_its_sender_stopped_repeating(sender):
    alert = prom_alert()
    del alert["endsAt"]
    post(sender, [alert])
    row = Alert.objects.get()
    assert row.state == "firing"
    alertmanager.expire(time.time() + conf.ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS - 5)
    assert Alert.objects.get().state == "firing"
    alertmanager.expire(time.time() + conf.ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS + 5)
    assert Alert.objects.get().state == "resolved"
    assert AlertTransition.objects.filter(alert=row, note__contains="endsAt").exists()


def test_invalid_alerts_refuse_the_batch_naming_them(sender):
    bad = prom_alert()
    del bad["labels"]["alertname"]
    response = post(sender, [prom_alert(), bad, {**prom_alert(), "endsAt": "tomorrow"}])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "labels.alertname"), (2, "endsAt")}
    assert Alert.objects.count() == 0


def test_readers_and_writers(client, operator_user):
    assert post(client, [prom_alert()]).status_code == 401
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=operator_user).key}"
    assert post(client, [prom_alert()]).status_code == 403
    assert client.get(URL).status_code == 200


def test_overload_answers_503_not_429(sender, monkeypatch):
    from apps.alerts.alertmanager_api import AlertsThrottle

    monkeypatch.setattr(AlertsThrottle, "rate", "2/min")
    from django.core.cache import cache

    cache.clear()
    statuses = [post(sender, [prom_alert()]).status_code for _ in range(3)]
    assert statuses == [200, 200, 503]


def test_routes_pick_the_policy_and_the_wedding_day_one(sender, receiver, live_wedding):
    normal = policy_to(receiver.url, "normal")
    wedding = policy_to(receiver.url, "wedding-day")
    AlertRoute.objects.create(
        name="latency",
        matchers={"alertname": "HighLatency"},
        escalation_policy=normal,
        wedding_day_escalation_policy=wedding,
    )
    post(sender, [prom_alert(venue=str(live_wedding.venue_id)), prom_alert(venue="999999")])
    at_venue = Alert.objects.get(labels__venue=str(live_wedding.venue_id))
    elsewhere = Alert.objects.get(labels__venue="999999")
    assert at_venue.wedding_day and at_venue.escalation["name"] == "wedding-day"
    assert not elsewhere.wedding_day and elsewhere.escalation["name"] == "normal"


def test_silenced_alert_is_shown_suppressed(sender):
    now = datetime.now(UTC)
    Silence.objects.create(
        matchers={"alertname": "HighLatency"},
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        reason="deploy",
    )
    post(sender, [prom_alert()])
    [listed] = sender.get(URL).json()
    assert listed["status"]["state"] == "suppressed"
    assert "deploy" in listed["status"]["silencedBy"][0]


def test_alertmanager_channel_posts_webhook_payload_version_4(sender, receiver):
    from apps.alerts import escalation

    policy = policy_to(receiver.url, "am")
    AlertRoute.objects.create(name="all", matchers={}, escalation_policy=policy)
    post(sender, [prom_alert(instance="a")])
    alert = Alert.objects.get()
    escalation.run_step(alert.pk, alert.episode, 0, 0)
    for n in Notification.objects.filter(status="pending"):
        notify.deliver(n.pk)
    post(sender, [prom_alert(instance="a", ends_in=-1)])
    escalation.send_resolved(alert.pk, alert.episode)
    for n in Notification.objects.filter(status="pending"):
        notify.deliver(n.pk)
    bodies = [r["json"] for r in receiver.requests]
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    firing, resolved = bodies
    assert firing["version"] == "4"
    assert firing["receiver"] == "am-am"
    assert firing["groupLabels"] == {"alertname": "HighLatency"}
    assert firing["groupKey"] == '{}:{alertname="HighLatency"}'
    assert firing["commonLabels"]["instance"] == "a"
    assert firing["externalURL"] == conf.PUBLIC_URL
    [item] = firing["alerts"]
    assert item["labels"]["alertname"] == "HighLatency"
    assert item["annotations"]["summary"] == "p95 over 500 ms"
    assert item["generatorURL"].startswith("http://prometheus:9090/")
    assert len(item["fingerprint"]) == 16
    assert item["endsAt"] == "0001-01-01T00:00:00Z"
    assert resolved["alerts"][0]["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
    assert {k for k in item} >= {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
