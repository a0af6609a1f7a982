"""Escalation, acknowledgement, silences, maintenance, delivery: called step by step, so every
step is observed (the Celery path is covered end to end in test_live.py)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.alerts import emergencies, engine, escalation, notify
from apps.alerts.models import (
    Alert,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    MaintenanceWindow,
    Notification,
    NotificationChannel,
    Silence,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(receiver):
    email = NotificationChannel.objects.create(
        name="ops mail", kind="email", target="ops@example.com"
    )
    hook = NotificationChannel.objects.create(
        name="pager", kind="webhook", target=receiver.url, secret="s3cret"
    )
    policy = EscalationPolicy.objects.create(name="default")
    first = EscalationLevel.objects.create(
        policy=policy, order=0, delay_seconds=0, repeat_count=1, repeat_interval_seconds=120
    )
    first.channels.set([email])
    second = EscalationLevel.objects.create(policy=policy, order=1, delay_seconds=300)
    second.channels.set([hook])
    return policy


CLOCK = [time.time()]


def tick() -> float:
    """Strictly increasing sample times, so the latest sample is always the newest one."""
    CLOCK[0] = max(CLOCK[0] + 0.01, time.time())
    return CLOCK[0]


def fire(rule, value=999.0, labels=None):
    now = tick()
    engine.on_samples([(rule.metric, labels or {"quantile": "p99"}, now, value)], now=now)
    return Alert.objects.get(rule=rule)


def clear(rule, labels=None):
    now = tick()
    engine.on_samples([(rule.metric, labels or {"quantile": "p99"}, now, 0.0)], now=now)


def due(alert):
    """Make the alert's next step due now (instead of waiting its countdown)."""
    Alert.objects.filter(pk=alert.pk).update(escalation_next_at=timezone.now())
    alert.refresh_from_db()
    return alert.episode, alert.escalation_next_level, alert.escalation_next_repeat


def deliver_all():
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        notify.deliver(pk)


def test_policy_is_snapshotted_when_the_alert_fires(make_rule, policy):
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    assert [len(lvl["channels"]) for lvl in alert.escalation["levels"]] == [1, 1]
    policy.levels.filter(order=1).delete()  # editing the policy later changes nothing here
    alert.refresh_from_db()
    assert len(alert.escalation["levels"]) == 2
    assert (alert.escalation_next_level, alert.escalation_next_repeat) == (0, 0)


def test_escalation_walks_levels_and_repeats_then_stops(make_rule, policy, receiver):
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"
    deliver_all()
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert mail.outbox[0].subject.startswith("[WARNING]")
    alert.refresh_from_db()
    assert (alert.escalation_next_level, alert.escalation_next_repeat) == (0, 1)
    assert alert.escalation_next_at > timezone.now() + timedelta(seconds=100)
    assert escalation.run_step(alert.pk, alert.episode, 0, 1) == "not due yet"
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"  # the repeat
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"  # level 2: the webhook
    deliver_all()
    assert len(mail.outbox) == 2 and len(receiver.requests) == 1
    alert.refresh_from_db()
    assert alert.escalation_next_at is None  # the policy is exhausted


def test_acknowledgement_mid_way_stops_escalation(make_rule, policy, receiver, operator_user):
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    escalation.run_step(alert.pk, *due(alert))
    escalation.acknowledge(alert.pk, operator_user, "looking")
    assert escalation.run_step(alert.pk, *due(alert)) == "acknowledged"
    deliver_all()
    assert len(mail.outbox) == 1 and receiver.requests == []
    # withdrawing the acknowledgement resumes where it stopped
    escalation.unacknowledge(alert.pk, operator_user)
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"


def test_a_redelivered_step_sends_once(make_rule, policy):
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    step = due(alert)
    assert escalation.run_step(alert.pk, *step) == "sent"
    assert escalation.run_step(alert.pk, *step) == "step already done"
    # Even if the alert row had not recorded the step (a crash between claim and save), the
    # delivery log's unique key refuses a second notice.
    Alert.objects.filter(pk=alert.pk).update(
        escalation_next_level=0, escalation_next_repeat=0, escalation_next_at=timezone.now()
    )
    assert escalation.run_step(alert.pk, *step) == "sent"
    assert Notification.objects.count() == 1
    pk = Notification.objects.get().pk
    assert notify.deliver(pk) == "sent"
    assert notify.deliver(pk) == "sent"  # redelivered delivery task: already sent, not resent
    assert len(mail.outbox) == 1


def test_resolution_sends_a_resolved_notice_to_whoever_was_told(make_rule, policy):
    rule = make_rule(threshold=10, escalation_policy=policy)
    alert = fire(rule)
    escalation.run_step(alert.pk, *due(alert))
    deliver_all()
    clear(rule)
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert escalation.send_resolved(alert.pk, alert.episode) == 1
    assert escalation.send_resolved(alert.pk, alert.episode) == 0  # once only
    deliver_all()
    assert [m.subject.split("]")[0] for m in mail.outbox] == ["[WARNING", "[RESOLVED"]


def test_new_episode_escalates_afresh(make_rule, policy):
    rule = make_rule(threshold=10, escalation_policy=policy)
    alert = fire(rule)
    escalation.run_step(alert.pk, *due(alert))
    clear(rule)
    alert = fire(rule)
    assert alert.episode == 2
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"
    assert escalation.run_step(alert.pk, 1, 0, 1) == "stale episode"
    assert Notification.objects.filter(kind="firing").count() == 2


def test_silence_mutes_notifications_but_not_the_alert(make_rule, policy, operator_user):
    rule = make_rule(threshold=10, escalation_policy=policy, name="Latency")
    Silence.objects.create(
        matchers={"alertname": "Latency"},
        reason="deploy",
        starts_at=timezone.now() - timedelta(minutes=1),
        ends_at=timezone.now() + timedelta(minutes=30),
        created_by=operator_user,
    )
    alert = fire(rule)
    assert alert.state == "firing"
    assert escalation.run_step(alert.pk, *due(alert)) == "suppressed"
    assert not Notification.objects.exists()
    assert "suppressed by silence" in alert.transitions.last().note
    # the silence ends while the alert still fires: the notice goes out then
    Silence.objects.update(ends_at=timezone.now())
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"


def test_silence_matching_other_labels_does_not_mute(make_rule, policy):
    rule = make_rule(threshold=10, escalation_policy=policy)
    Silence.objects.create(
        matchers={"quantile": "p50"},
        reason="x",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    alert = fire(rule)
    assert escalation.run_step(alert.pk, *due(alert)) == "sent"


def test_maintenance_window_mutes_while_open(make_rule, policy):
    now = timezone.now().astimezone(UTC)
    MaintenanceWindow.objects.create(
        name="patching",
        timezone="UTC",
        start_time=(now - timedelta(minutes=5)).time(),
        duration_minutes=30,
        matchers={"severity": "warning"},
    )
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    assert escalation.run_step(alert.pk, *due(alert)) == "suppressed"
    assert "maintenance window" in alert.transitions.last().note


def at(text):
    return datetime.fromisoformat(text)


def test_maintenance_windows_recur_in_local_time_across_dst_and_midnight():
    weekly = MaintenanceWindow(
        name="w",
        timezone="Europe/London",
        start_time=at("2026-01-01T23:30").time(),
        duration_minutes=90,
        weekdays=[6],
    )  # Saturdays 23:30–01:00 local
    # winter (UTC+0): Saturday 2026-01-03 23:45 local = 23:45Z; Sunday 00:30 still open
    assert weekly.active_at(at("2026-01-03T23:45+00:00"))
    assert weekly.active_at(at("2026-01-04T00:30+00:00"))
    assert not weekly.active_at(at("2026-01-04T01:00+00:00"))
    assert not weekly.active_at(at("2026-01-02T23:45+00:00"))  # a Friday
    # summer (UTC+1): Saturday 2026-07-04 23:45 local is 22:45Z
    assert weekly.active_at(at("2026-07-04T22:45+00:00"))
    assert not weekly.active_at(at("2026-07-05T00:05+00:00"))  # 01:05 local: closed
    once = MaintenanceWindow(
        name="o",
        timezone="America/New_York",
        start_time=at("2026-01-01T09:00").time(),
        duration_minutes=60,
        valid_from=at("2026-03-10").date(),
        valid_until=at("2026-03-10").date(),
    )
    assert once.active_at(at("2026-03-10T13:30+00:00"))  # 09:30 EDT
    assert not once.active_at(at("2026-03-11T13:30+00:00"))


def test_webhook_is_signed_and_retried_with_backoff(make_rule, receiver, settings):
    receiver.fail_first = 2
    channel = NotificationChannel.objects.create(
        name="hook", kind="webhook", target=receiver.url, secret="s3cret"
    )
    n = notify.claim(
        "test:retry",
        kind="firing",
        channel_kind="webhook",
        channel=channel,
        target=channel.target,
        secret=channel.secret,
        subject="x",
        payload={"event": "firing", "text": "hello"},
    )
    assert notify.deliver(n.pk) == "retrying"
    n.refresh_from_db()
    assert n.attempts == 1 and "HTTP 503" in n.error and n.next_attempt_at > timezone.now()
    first_wait = (n.next_attempt_at - timezone.now()).total_seconds()
    assert notify.deliver(n.pk) == "retrying"
    n.refresh_from_db()
    assert (n.next_attempt_at - timezone.now()).total_seconds() > first_wait * 1.5  # backoff
    assert notify.deliver(n.pk) == "sent"
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 3 and n.error == ""
    last = receiver.requests[-1]
    ts = last["headers"]["x-wedsync-timestamp"]
    expected = (
        "sha256="
        + hmac.new(b"s3cret", ts.encode() + b"." + last["body"], hashlib.sha256).hexdigest()
    )
    assert last["headers"]["x-wedsync-signature"] == expected
    assert last["json"]["text"] == "hello"


def test_webhook_gives_up_after_max_attempts_and_says_why(receiver, settings):
    from apps.alerts import conf

    receiver.fail_first = 99
    n = notify.claim(
        "test:giveup",
        kind="firing",
        channel_kind="webhook",
        target=receiver.url,
        subject="x",
        payload={},
    )
    for _ in range(conf.WEBHOOK_MAX_ATTEMPTS):
        status = notify.deliver(n.pk)
    assert status == "failed"
    n.refresh_from_db()
    assert n.status == "failed" and "503" in n.error
    assert notify.deliver(n.pk) == "failed"
    assert len(receiver.requests) == conf.WEBHOOK_MAX_ATTEMPTS


def test_slack_webhook_gets_a_text_message(receiver):
    n = notify.claim(
        "test:slack",
        kind="firing",
        channel_kind="slack",
        target=receiver.url,
        subject="[CRITICAL] x",
        payload={"text": "*latency* high"},
    )
    assert notify.deliver(n.pk) == "sent"
    assert receiver.requests[0]["json"] == {"text": "*latency* high"}


def test_unreachable_webhook_is_logged_not_lost():
    n = notify.claim(
        "test:down",
        kind="firing",
        channel_kind="webhook",
        target="http://127.0.0.1:9/hook",
        subject="x",
        payload={},
    )
    assert notify.deliver(n.pk) == "retrying"
    n.refresh_from_db()
    assert "Connection" in n.error or "refused" in n.error.lower()


def test_rule_with_emergency_type_opens_one_incident_per_episode(make_rule, venue):
    rule = make_rule(
        threshold=10, emergency_type="venue_network_failure", metric="wedsync_venue_packet_loss"
    )
    alert = fire(rule, labels={"venue": str(venue.pk)})
    first = emergencies.trigger_from_alert(alert.pk, alert.episode)
    again = emergencies.trigger_from_alert(alert.pk, alert.episode)
    assert first.pk == again.pk and Incident.objects.count() == 1
    assert first.venue_id == venue.pk and first.alert_id == alert.pk
    venue.refresh_from_db()
    assert venue.degraded
    assert first.timeline.first().message.startswith("Venue network failure triggered by alert")
