"""The cache's figures as users see them: the API, /metrics, the collector, the page."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from apps.caching import bundles, collectors
from apps.caching.service import cache
from tests.conftest import login, screenshot


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db
def test_stats_api_sums_processes_and_refuses_anonymous(operator_api, api_client, calendar):
    wedding = calendar(starts_in=timedelta(days=1))
    for _ in range(200):  # one hit in 64 is timed
        bundles.wedding_bundle(wedding.id)
    response = operator_api.get("/api/v1/cache/stats/")
    assert response.status_code == 200
    body = response.json()
    assert body["processes"] >= 1
    assert set(body["tiers"]) == {"l1", "l2", "total"}
    assert body["tiers"]["l1"]["hits"] >= 199
    assert 0 < body["tiers"]["total"]["hit_ratio"] <= 1
    assert body["tiers"]["l1"]["latency_us"]["p50"] is not None
    assert body["compression"]["stored_values"] >= 1
    assert api_client.get("/api/v1/cache/stats/").status_code in (401, 403)


def test_openapi_schema_documents_the_stats_endpoint(admin_api):
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/cache/stats/" in response.json()["paths"]


@pytest.mark.django_db
def test_metrics_and_collector_report_the_cache(client, calendar):
    wedding = calendar()
    for _ in range(5):
        bundles.wedding_bundle(wedding.id)
    cache.start()

    def exported() -> bool:
        text = client.get("/metrics").content.decode()
        return 'wedsync_cache_requests_total{result="hit",tier="l1"}' in text

    assert wait_until(exported, 8)
    samples = {
        (s["name"], tuple(sorted(s["labels"].items()))): s["value"] for s in collectors.collect()
    }
    assert 0 < samples[("wedsync_cache_hit_ratio", (("tier", "total"),))] <= 1
    assert samples[("wedsync_cache_bytes", (("tier", "l1"),))] > 0
    assert ("wedsync_cache_evictions_total", ()) in samples
    assert samples[("wedsync_cache_bytes", (("tier", "l2"),))] > 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_cache_page_shows_live_figures(daphne, page, operator_user, calendar):
    wedding = calendar()
    bundles.wedding_bundle(wedding.id)
    login(page, daphne.url, operator_user.username)
    page.goto(f"{daphne.url}/cache/")
    assert page.locator("nav a[aria-current=page]").inner_text() == "Cache"
    total = page.locator('.card-value[data-stat="tiers.total.hit_ratio"]')
    page.wait_for_function(
        "document.querySelector('#cache-chart .main-svg') !== null", timeout=10_000
    )
    page.wait_for_timeout(2500)  # one refresh from the API
    assert "%" in total.inner_text() or total.inner_text() == "–"
    processes = int(page.locator('.card-value[data-stat="processes"]').inner_text())
    assert processes >= 1
    assert page.locator("#cache-tiers tbody tr").count() == 3
    screenshot(page, "cache-page")


@pytest.mark.django_db
def test_cache_page_is_for_staff_only(client, make_user):

    user = make_user("supplierish", role=None)
    client.force_login(user)
    assert client.get("/cache/").status_code == 403
    client.logout()
    assert client.get("/cache/").status_code == 302
