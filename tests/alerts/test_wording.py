"""Issue 15, wording: notices name their step in words and with the right event, the
network-failure playbook says what the degraded profile does, the freeze refusal names
the change in words, and the overview counts upcoming weddings only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.alerts import escalation
from tests.alerts.test_escalation import deliver_all, due, fire, policy  # noqa: F401

pytestmark = pytest.mark.django_db


def test_notices_say_first_notice_reminder_and_escalation_with_matching_events(
    make_rule,
    policy,  # noqa: F811 (the fixture imported above)
    receiver,
):
    alert = fire(make_rule(threshold=10, escalation_policy=policy))
    for _ in range(3):  # level 0, its reminder, then level 1 (the webhook)
        assert escalation.run_step(alert.pk, *due(alert)) == "sent"
        deliver_all()
    first, reminder = (m.body for m in mail.outbox)
    assert "First notice." in first and "escalation level" not in first
    assert "First notice, reminder 1." in reminder
    (hook,) = receiver.requests
    assert hook["json"]["event"] == "escalated"
    assert "Escalation 1." in hook["json"]["text"]
    events = list(alert.notifications.order_by("id").values_list("kind", flat=True))
    assert events == ["firing", "repeat", "escalated"]
    notes = list(
        alert.transitions.filter(note__contains="notification").values_list("note", flat=True)
    )
    assert notes == [
        "First notice: 1 notification(s)",
        "First notice, reminder 1: 1 notification(s)",
        "Escalation 1: 1 notification(s)",
    ]


def test_the_network_failure_playbook_describes_the_degraded_profile():
    from apps.alerts.emergencies import PLAYBOOKS
    from apps.alerts.models import EmergencyType
    from apps.weddings.profiles import TYPE_DEFAULTS, degraded_profile

    advice = PLAYBOOKS[EmergencyType.VENUE_NETWORK_FAILURE].advice
    assert "longer heartbeats" not in advice
    assert "heartbeat at least every 15 s" in advice
    for profile in TYPE_DEFAULTS.values():
        assert degraded_profile(profile).heartbeat_seconds <= min(profile.heartbeat_seconds, 15)


def test_the_freeze_refusal_names_the_change_in_words(admin_api, make_rule, live_wedding):
    rule = make_rule(name="Gateway latency p99")
    response = admin_api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"enabled": False}, format="json")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert "disable the alert rule “Gateway latency p99”" in body["detail"]
    assert "alert_rule." not in body["detail"] and "alert_rule." not in body["action"]
    response = admin_api.delete(f"/api/v1/alert-rules/{rule.pk}/")
    assert response.status_code == 409
    assert "delete the alert rule “Gateway latency p99”" in response.json()["detail"]


def test_overview_counts_the_weddings_of_the_next_seven_days_only(
    client, operator_user, live_wedding, venue
):
    from apps.weddings.models import Wedding

    def wedding_in(days: int) -> None:
        local = (timezone.now() + timedelta(days=days)).astimezone(venue.tz)
        Wedding.objects.create(
            date=local.date(),
            ceremony_time=local.time().replace(microsecond=0),
            reception_end_time=(local + timedelta(hours=5)).time().replace(microsecond=0),
            venue=venue,
            couple_name=f"In {days} days",
        )

    wedding_in(3)
    wedding_in(30)
    client.force_login(operator_user)
    page = client.get("/").content.decode()
    assert "Upcoming weddings (next 7 days)" in page
    # The live one is in progress, the one in 30 days is not within the week.
    assert '<div class="card-value" data-testid="weddings-upcoming">1</div>' in page
