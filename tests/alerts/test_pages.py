"""The alerts pages in Chromium against a real Daphne: live list, acknowledge, silences,
emergency trigger with its timeline."""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import expect

from apps.alerts import engine
from apps.alerts.models import Alert, Incident, Silence
from tests.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ingest(rule, value, **labels):
    """Evaluate in another thread: Playwright's event loop owns this one, and the ops push
    (async_to_sync) refuses to run inside a running loop."""
    now = time.time()
    worker = threading.Thread(
        target=engine.on_samples, args=([(rule.metric, labels, now, float(value))], now)
    )
    worker.start()
    worker.join()


def test_alert_list_is_live_and_acknowledges(page, daphne, make_user, make_rule):
    make_user("opal", "operator")
    latency = make_rule(
        name="Gateway p99 latency high",
        threshold=250,
        severity="critical",
        runbook_url="https://runbooks.example.com/latency",
    )
    errors = make_rule(
        name="Cache hit ratio low",
        metric="wedsync_cache_hit_ratio",
        comparator="lt",
        threshold=0.6,
        for_seconds=120,
    )
    ingest(latency, 480, quantile="p99", region="uk-south")
    ingest(errors, 0.41, tier="total")
    login(page, daphne.url, "opal")
    page.goto(f"{daphne.url}/alerts/")
    page.wait_for_selector("#live-status.on")
    rows = page.locator("#active-alerts tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert page.locator("#count-firing").inner_text() == "1"
    assert page.locator("#count-pending").inner_text() == "1"
    # a new transition appears without reloading the page
    ingest(latency, 900, quantile="p99", region="us-east")
    expect(rows).to_have_count(3)
    firing = Alert.objects.get(rule=latency, labels__region="uk-south")
    row = page.locator(f"#alert-{firing.pk}")
    row.locator("input[name=comment]").fill("looking at the gateway")
    row.locator("button", has_text="Acknowledge").click()
    page.wait_for_selector(f"#alert-{firing.pk} >> text=✓ opal: looking at the gateway")
    firing.refresh_from_db()
    assert firing.acknowledged_by.username == "opal"
    assert page.locator("#count-unacked").inner_text() == "2"
    screenshot(page, "alerts-list")


def test_silence_form_creates_and_expires(page, daphne, make_user):
    make_user("sage", "operator")
    login(page, daphne.url, "sage")
    page.goto(f"{daphne.url}/alerts/silences/")
    row = page.locator("#silence-matchers .matcher-row").first
    row.locator(".m-name").select_option("__other")
    row.locator(".m-custom").fill("bad-label")
    row.locator(".m-value").fill("x")
    page.fill("input[name=reason]", "deploy")
    page.click("#silence-form button[type=submit]")
    page.wait_for_selector("#silence-error:not([hidden])")
    assert "matchers" in page.inner_text("#silence-error")
    row.locator(".m-name").select_option("alertname")
    row.locator(".m-value").fill("Gateway p99 latency high")
    page.click("#silence-matchers .add-matcher")
    second = page.locator("#silence-matchers .matcher-row").nth(1)
    second.locator(".m-name").select_option("__other")
    second.locator(".m-custom").fill("region")
    second.locator(".m-value").fill("uk-south")
    page.fill("input[name=reason]", "gateway deploy")
    page.click("#silence-form button[type=submit]")
    page.wait_for_selector("#silences tbody tr >> text=gateway deploy")
    silence = Silence.objects.get()
    assert silence.matchers == {"alertname": "Gateway p99 latency high", "region": "uk-south"}
    assert silence.created_by.username == "sage"
    screenshot(page, "alerts-silences")
    page.click("#silences button:has-text('Expire')")
    page.wait_for_selector("#silences >> text=expired")


def test_operator_triggers_an_emergency_and_sees_the_timeline(
    page, daphne, make_user, live_wedding
):
    make_user("olive", "operator")
    login(page, daphne.url, "olive")
    page.goto(f"{daphne.url}/alerts/incidents/")
    page.select_option("select[name=emergency_type]", "venue_network_failure")
    page.select_option("select[name=wedding]", str(live_wedding.pk))
    page.fill("input[name=reason]", "Church wifi down, photographers offline")
    page.click("#emergency-form button[type=submit]")
    page.wait_for_selector(".incident .timeline li")
    incident = Incident.objects.get()
    assert incident.triggered_by.username == "olive" and incident.venue_id == live_wedding.venue_id
    text = page.inner_text(f"#incident-{incident.pk}")
    assert "Venue network failure at St Mary's Church" in text
    assert "degraded connectivity profile" in text
    screenshot(page, "alerts-incidents")
    page.click(f"#incident-{incident.pk} button:has-text('Resolve')")
    page.click("#resolve-confirm")  # no note yet: the dialog asks for one
    page.wait_for_selector("#resolve-error:not([hidden])")
    assert Incident.objects.get().status == "open"
    page.fill("#resolve-dialog textarea", "church router rebooted")
    page.click("#resolve-confirm")
    page.wait_for_selector(f"#incident-{incident.pk} .badge-resolved")
    assert "church router rebooted" in page.inner_text(f"#incident-{incident.pk}")
