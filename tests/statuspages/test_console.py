"""Operators' side: which weddings have a live link, who subscribed, what was sent, and an
incident update posted once that reaches every affected wedding's page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from apps.alerts import emergencies
from apps.statuspages import notify, subscriptions
from tests.statuspages.conftest import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(operator_user) -> Client:
    client = Client()
    client.force_login(operator_user)
    return client


def test_board_and_wedding_page_show_links_subscribers_and_sent(ops, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscriptions.add_webhook(world.wedding, "http://127.0.0.1:9/never")  # refused port
    emergencies.trigger("venue_network_failure", wedding=world.wedding, reason="x")
    notify.scan()
    notify.send_due()
    board = ops.get("/status-pages/").content.decode()
    assert escape(world.wedding.couple_name) in board
    assert world.other.couple_name not in board  # no link issued for it
    page = ops.get(f"/status-pages/wedding/{world.wedding.pk}/").content.decode()
    assert "http://127.0.0.1:9/never" in page
    assert "failed" in page  # what was sent, and that it did not arrive
    # Rotating from the console shows the new link once.
    answer = ops.post(f"/status-pages/wedding/{world.wedding.pk}/action/", {"action": "issue"})
    assert answer.status_code == 302
    page = ops.get(f"/status-pages/wedding/{world.wedding.pk}/").content.decode()
    assert 'id="new-link"' in page
    assert (
        'id="new-link"'
        not in ops.get(f"/status-pages/wedding/{world.wedding.pk}/").content.decode()
    )
    assert Client().get(world.path).status_code == 404  # the old link is dead


def test_console_is_for_operators_only(world, make_user):
    client = Client()
    assert client.get("/status-pages/").status_code == 302  # to the login page
    client.force_login(make_user("plain", role=None))
    assert client.get("/status-pages/").status_code == 403


def test_one_update_reaches_every_affected_page(ops, world, operator_api):
    second = make_world()  # another live wedding in the same region
    incident = emergencies.trigger("service_degradation", reason="platform")  # platform-wide
    answer = operator_api.post(
        f"/api/v1/incidents/{incident.pk}/public-updates/",
        {"status": "identified", "body": "A database node failed over; recovering."},
        format="json",
    )
    assert answer.status_code == 201
    assert {p["wedding"] for p in answer.json()["pages"]} >= {world.wedding.pk, second.wedding.pk}
    for w in (world, second):
        data = Client().get(f"/status/{w.token}/summary.json").json()
        item = data["incidents"][0]
        assert item["status"] == "identified"
        assert item["incident_updates"][0]["body"] == "A database node failed over; recovering."
    bad = operator_api.post(
        f"/api/v1/incidents/{incident.pk}/public-updates/", {"status": "done", "body": ""}
    )
    assert bad.status_code == 400 and {"status", "body"} <= set(bad.json())
    # The console form does the same.
    ops.post(
        "/status-pages/updates/",
        {"incident": incident.pk, "status": "monitoring", "body": "Watching closely."},
    )
    data = Client().get(f"/status/{second.token}/summary.json").json()
    assert data["incidents"][0]["status"] == "monitoring"


def test_wedding_day_dashboard_lists_live_status_pages(ops, world):
    from apps.dashboards.wedding_day import ensure_wedding_day

    ensure_wedding_day()
    page = ops.get("/dashboards/wedding-day/").content.decode()
    assert 'id="status-pages-live"' in page
    assert escape(world.wedding.couple_name) in page
