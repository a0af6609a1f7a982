"""The /monitor/ metric explorer, in a real browser against Daphne."""

from __future__ import annotations

import math
import time

import pytest
from playwright.sync_api import expect

from apps.monitoring.ingest import ingest
from apps.monitoring.models import ScrapeTarget
from tests.conftest import login, screenshot


@pytest.mark.django_db
def test_explorer_needs_staff(client, make_user):
    assert client.get("/monitor/").status_code == 302
    client.force_login(make_user("someone", role=None))
    assert client.get("/monitor/").status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_explorer_draws_a_metric_with_label_filters(page, daphne, operator_user):
    now = time.time()
    samples = []
    for i in range(0, 3600, 15):
        for queue, base in (("celery", 4.0), ("alerts", 1.0)):
            value = (
                base + 3 * math.sin(i / 400) ** 2 + (25 if queue == "alerts" and i == 2400 else 0)
            )
            samples.append(
                {
                    "name": "wedsync_celery_queue_length",
                    "labels": {"queue": queue},
                    "value": value,
                    "ts": now - 3600 + i,
                }
            )
    samples.append({"name": "wedsync_db_latency_ms", "value": 2.0})
    samples.append({"name": "quiet_metric", "value": 1.0, "ts": now - 7200})
    ingest(samples)
    ScrapeTarget.objects.create(name="supabase-realtime", url="http://127.0.0.1:1/metrics")

    login(page, daphne.url, operator_user.username)
    page.goto(f"{daphne.url}/monitor/?name=wedsync_celery_queue_length&range=1h&agg=max")
    page.wait_for_selector("#chart .main-svg")
    status = page.locator("#status")
    expect(status).to_contain_text("2 series")
    assert page.locator("#chart .scatterlayer .trace").count() == 2
    assert page.locator("select[name='label.queue'] option").all_text_contents() == [
        "any",
        "alerts",
        "celery",
    ]
    assert "supabase-realtime" in page.locator("[data-testid=targets]").text_content()
    screenshot(page, "monitor-explorer")

    page.select_option("select[name='label.queue']", "alerts")
    page.click("#explorer button[type=submit]")
    expect(status).to_contain_text("1 series,")
    assert page.locator("#chart .scatterlayer .trace").count() == 1
    assert "label.queue=alerts" in page.url
    screenshot(page, "monitor-explorer-filtered")

    # A metric with nothing in the range says so instead of drawing an empty chart.
    page.goto(f"{daphne.url}/monitor/?name=quiet_metric&range=15m")
    expect(status).to_have_text("No samples of quiet_metric in this range.")
    assert page.locator("#chart .main-svg").count() == 0
