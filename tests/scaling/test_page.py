"""The /scaling/ page as an operator sees it: pools, the chart, the decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.scaling import services
from apps.scaling.models import PoolState
from tests.conftest import login, screenshot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_scaling_page_shows_chart_and_decisions(daphne, page, make_user, web_policy, worker_policy):
    make_user("sam-ops", "operator")
    now = timezone.now()
    for i, load in enumerate([150, 300, 900, 1200, 800, 400]):
        at = now - timedelta(hours=6) + timedelta(hours=i)
        services.actuate(services.decide_pool(web_policy, at, load=load))
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, daphne.url, "sam-ops")
    page.goto(f"{daphne.url}/scaling/")
    page.wait_for_selector("#scaling-chart .main-svg")
    assert page.locator("nav a[aria-current=page]").inner_text() == "Scaling"
    assert page.locator("#scaling-chart .legendtext").all_text_contents()[:4] == [
        "Forecast",
        "Weddings part",
        "Actual",
        "Capacity",
    ]
    rows = page.locator("#scaling-decisions tbody tr")
    assert rows.count() == 6
    table = page.locator("#scaling-decisions").inner_text()
    assert "scale_up_load" in table and "scale_down" in table  # 1,200 then 400 an hour later
    current = PoolState.objects.get(pool="web").current_units
    assert page.locator(".card[data-pool=web] .card-value").inner_text() == f"{current} units"
    screenshot(page, "scaling-page")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]


@pytest.mark.django_db
def test_scaling_page_needs_login_and_staff(client, make_user):
    assert client.get("/scaling/").status_code == 302
    client.force_login(make_user("nobody", None))
    assert client.get("/scaling/").status_code == 403
