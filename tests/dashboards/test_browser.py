"""The dashboards in Chromium against a real Daphne, Redis and PostgreSQL."""

from __future__ import annotations

import json
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from tests.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wedding_day(admin_user_, operator_user):
    """The seeded Wedding Day dashboard with an hour of samples, and an admin API token."""
    from rest_framework.authtoken.models import Token

    from apps.dashboards.demo_samples import sample_rows
    from apps.dashboards.wedding_day import ensure_wedding_day
    from apps.monitoring.ingest import ingest

    dashboard, _ = ensure_wedding_day()
    now = time.time()
    # As seed_demo passes them: the calendar's regions and live windows, the real pools.
    rows = list(
        sample_rows(
            now - 3600,
            now - 5,
            30.0,
            regions=("us-south", "us-west"),
            windows=[("us-west", now - 1800, now + 1800)],
            pools={"web": 75.0, "worker": 750.0},
        )
    )
    for i in range(0, len(rows), 5000):
        ingest(rows[i : i + 5000], now=now)
    return {"dashboard": dashboard, "token": Token.objects.create(user=admin_user_).key}


def post_samples(base_url: str, token: str, samples: list[dict]) -> dict:
    req = urllib.request.Request(
        f"{base_url}/api/v1/metrics/",
        data=json.dumps({"samples": samples}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 202
        return json.loads(r.read())


def watch_requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("websocket", lambda ws: seen.append(ws.url))
    return seen


def assert_local(urls: list[str]) -> None:
    foreign = [
        u
        for u in urls
        if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"
    ]
    assert not foreign, f"requests left localhost: {foreign[:5]}"


def metric_tile(page, title: str):
    return page.locator("section.tile-metric", has=page.locator(".tile-title", has_text=title))


def open_wedding_day(page, daphne) -> None:
    login(page, daphne.url, "oscar-operator")
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    page.wait_for_selector("#conn[data-state=live]", timeout=15_000)
    # Widgets arrive in parallel parts; wait until every one has drawn its first snapshot.
    page.wait_for_function("() => window.wsoDashboard.firstRenderMs !== undefined")


def test_wedding_day_live_updates_from_ingest(daphne, page, browser, wedding_day):
    seen = watch_requests(page)
    open_wedding_day(page, daphne)
    tile = metric_tile(page, "Gateway connections")
    page.wait_for_function(
        "() => document.querySelector('section.tile-chart .main-svg') !== null", timeout=10_000
    )
    assert page.locator("#conn").inner_text().strip() == "Live"
    # Every chart came with data and none sends more than ~1,000 points a series.
    points = page.eval_on_selector_all(
        "section.tile-chart", "els => els.map(e => Number(e.dataset.points))"
    )
    assert len(points) == 5 and all(p > 0 for p in points)
    assert page.evaluate(
        "() => [...document.querySelectorAll('section.tile-chart .js-plotly-plot')]"
        ".every(p => p.data.every(t => t.x.length <= 1000))"
    )
    screenshot(page, "dashboards-wedding-day-1280")

    chart = page.locator(
        "section.tile-chart", has=page.locator(".tile-title", has_text="Delivery latency p50")
    )
    last_before = float(chart.get_attribute("data-last"))
    now = time.time()
    post_samples(
        daphne.url,
        wedding_day["token"],
        [
            {"name": "wedsync_gateway_connections", "value": 4321, "ts": now},
            {
                "name": "wedsync_gateway_latency_ms",
                "labels": {"quantile": "p95"},
                "value": 420,
                "ts": now,
            },
        ],
    )
    tile.locator("[data-testid=metric-value]", has_text="4321").wait_for(timeout=5000)
    # Colour is never the only signal: the state is written out too.
    assert "Warning" in tile.locator("[data-testid=state]").inner_text()
    p95 = metric_tile(page, "Delivery latency p95")
    p95.locator("[data-testid=metric-value]", has_text="420").wait_for(timeout=5000)
    assert "Critical" in p95.locator("[data-testid=state]").inner_text()
    page.wait_for_function(
        "([el, before]) => Number(el.dataset.last) > before",
        arg=[chart.element_handle(), last_before],
        timeout=5000,
    )
    # The status widget lists each service in words, not just colours.
    services = page.locator(
        "section.tile-status", has=page.locator(".tile-title", has_text="Services")
    )
    for name in ("Gateway", "Cache", "Redis", "PostgreSQL", "Celery workers", "Circuit breakers"):
        assert services.locator(f"li[data-component='{name}']").count() == 1

    # The same page at 1920x1080 in the dark theme.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.click("#theme-toggle")
    page.wait_for_timeout(300)
    screenshot(page, "dashboards-wedding-day-1920-dark")
    # Wall mode: no menus, and every tile fits a 1080p screen.
    page.click("#wall-btn")
    assert not page.is_visible("header.topbar") and not page.is_visible(".toolbar")
    bottoms = page.eval_on_selector_all(
        "section.tile", "els => els.map(e => e.getBoundingClientRect().bottom)"
    )
    assert max(bottoms) <= 1080, bottoms
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot.__globals__["ARTIFACTS"] / "dashboards-wall-1920-dark.png"))
    page.keyboard.press("Escape")
    assert page.is_visible("header.topbar")
    page.click("#theme-toggle")
    assert_local(seen)


def test_keyboard_time_range_and_custom(daphne, page, wedding_day):
    open_wedding_day(page, daphne)
    page.wait_for_selector("section.tile-chart .main-svg")
    # Reach the 15m range button by keyboard and press it.
    page.focus(".range-btn[data-range='15m']")
    with page.expect_response(lambda r: "/data/?range=15m" in r.url):
        page.keyboard.press("Enter")
    assert page.get_attribute(".range-btn[data-range='15m']", "aria-pressed") == "true"
    # A zoomed chart keeps the user's zoom while live points are appended.
    chart = page.locator(
        "section.tile-chart", has=page.locator(".tile-title", has_text="Delivery latency p50")
    )
    plot = chart.locator(".js-plotly-plot")
    zoom = plot.evaluate(
        """p => { const r = [Date.now() - 600000, Date.now() - 300000];
                  return Plotly.relayout(p, {'xaxis.range': r}).then(() => r); }"""
    )
    before = float(chart.get_attribute("data-last"))
    post_samples(
        daphne.url,
        wedding_day["token"],
        [{"name": "wedsync_gateway_latency_ms", "labels": {"quantile": "p50"}, "value": 33}],
    )
    page.wait_for_function(
        "([el, b]) => Number(el.dataset.last) > b", arg=[chart.element_handle(), before]
    )
    page.wait_for_timeout(300)
    kept = plot.evaluate("p => p.layout.xaxis.range.map(v => new Date(v).getTime())")
    assert [round(v) for v in kept] == [round(v) for v in zoom]
    page.click(".range-btn[data-range='custom']")
    page.fill("#custom-start", "2026-06-13T10:00")
    page.fill("#custom-end", "2026-06-13T09:00")
    page.click("#custom-range button[type=submit]")
    assert "must be after" in page.inner_text("#dash-status")


def test_edit_widget_then_reload(daphne, page, wedding_day):
    open_wedding_day(page, daphne)
    page.click("#edit-btn")
    tile = metric_tile(page, "Error rate")
    wid = tile.get_attribute("data-widget")
    tile.locator("[data-tool=edit]").click()
    page.wait_for_selector("#widget-dialog[open]")
    # The metric picker offers the known metrics.
    page.wait_for_function("() => document.querySelectorAll('#known-metrics option').length > 5")
    assert page.locator("#known-metrics option[value='wedsync_cache_hit_ratio']").count() == 1
    page.fill("#wf-title", "L1 cache hits")
    page.fill("#wf-metric", "wedsync_cache_hit_ratio")
    page.fill("#wf-matchers", "tier = l1")
    page.fill("#wf-warn", "0.9")
    page.fill("#wf-crit", "0.5")
    page.select_option("#wf-direction", "below")
    page.click("#wf-save")
    page.wait_for_selector("#widget-dialog", state="hidden")
    page.locator(f"section[data-widget='{wid}'] .tile-title", has_text="L1 cache hits").wait_for()
    # Wider, then moved one place earlier.
    with page.expect_response(lambda r: f"/dashboard-widgets/{wid}/" in r.url):
        page.click(f"[data-tool=wider][data-id='{wid}']")
    with page.expect_response(lambda r: "/reorder/" in r.url):
        page.click(f"[data-tool=move-left][data-id='{wid}']")
    # A bad edit is refused with the reason, in the dialog.
    page.click(f"[data-tool=edit][data-id='{wid}']")
    page.fill("#wf-warn", "0.2")  # warn below crit for a 'below' threshold is backwards
    page.click("#wf-save")
    page.wait_for_function(
        "() => document.querySelector('#wf-errors').textContent.includes('warn')"
    )
    page.click("#wf-cancel")

    page.reload()
    page.wait_for_selector("#conn[data-state=live]")
    edited = page.locator(f"section[data-widget='{wid}']")
    assert edited.locator(".tile-title").text_content() == "L1 cache hits"
    assert edited.evaluate("e => e.style.getPropertyValue('--w')").strip() == "4"
    order = page.eval_on_selector_all("section.tile", "els => els.map(e => e.dataset.widget)")
    assert order.index(wid) == 1
    value = float(edited.locator("[data-testid=metric-value]").get_attribute("data-value"))
    assert 0.5 < value < 0.9  # the L1 tier's ~0.71, so a warning
    assert "Warning" in edited.locator("[data-testid=state]").inner_text()

    # Add a widget, then remove it.
    page.click("#edit-btn")
    page.click("#add-btn")
    page.select_option("#wf-kind", "chart")
    page.fill("#wf-title", "DB latency")
    page.fill("#wf-metric", "wedsync_db_latency_ms")
    page.click("#wf-save")
    added = page.locator("section.tile", has=page.locator(".tile-title", has_text="DB latency"))
    added.locator(".main-svg").first.wait_for()
    page.once("dialog", lambda d: d.accept())
    added.locator("[data-tool=remove]").click()
    added.wait_for(state="detached")
    screenshot(page, "dashboards-edit-mode")


def test_export_then_import(daphne, page, wedding_day, tmp_path):
    open_wedding_day(page, daphne)
    with page.expect_download() as info:
        page.click("#export-btn")
    path = tmp_path / "export.json"
    info.value.save_as(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "wedsync-dashboard/1" and len(doc["widgets"]) == 13

    page.goto(f"{daphne.url}/dashboards/")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**doc, "widgets": [{"kind": "pie", "title": ""}]}))
    page.set_input_files("#import-file", str(broken))
    page.wait_for_selector("#import-dialog[open]")
    page.click("#import-submit")
    page.wait_for_function(
        "() => document.querySelector('#list-status').textContent.includes('widgets[0].kind')"
    )
    assert "nothing was saved" in page.inner_text("#list-status")
    screenshot(page, "dashboards-import-refused")

    # Import asks for a name, offering one that is not taken yet.
    page.set_input_files("#import-file", str(path))
    page.wait_for_selector("#import-dialog[open]")
    assert page.input_value("#import-name") == "Wedding Day (imported)"
    page.fill("#import-name", "Wedding Day")  # taken: refused in the dialog, nothing saved
    page.click("#import-submit")
    page.wait_for_function("() => document.querySelector('#import-errors').textContent")
    assert "exists already" in page.inner_text("#import-errors")
    page.fill("#import-name", "Wedding Day — night shift")
    with page.expect_navigation():
        page.click("#import-submit")
    assert page.url.endswith("/dashboards/wedding-day-2/")
    page.wait_for_selector("#conn[data-state=live]")
    assert page.locator("section.tile").count() == 13
    assert page.inner_text("#dash-title") == "Wedding Day — night shift"
    page.goto(f"{daphne.url}/dashboards/")
    names = page.eval_on_selector_all(
        "#dashboard-table tbody td:first-child > a", "as => as.map(a => a.textContent)"
    )
    assert sorted(names) == ["Wedding Day", "Wedding Day — night shift"]


def test_page_recovers_after_the_server_drops(start_daphne, page, wedding_day):
    """Stop Daphne under the open page, ingest while it is gone, start it on the same port:
    the page reconnects and reloads a snapshot with what it missed."""
    from apps.monitoring.ingest import ingest

    server = start_daphne()
    open_wedding_day(page, server)
    tile = metric_tile(page, "Gateway connections")
    server.stop()
    page.wait_for_selector("#conn[data-state=offline]", timeout=10_000)
    assert "Offline" in page.inner_text("#conn")
    screenshot(page, "dashboards-offline")
    ingest(
        [{"name": "wedsync_gateway_connections", "labels": {}, "value": 3777, "ts": time.time()}]
    )
    start_daphne(port=server.port)
    page.wait_for_selector("#conn[data-state=live]", timeout=20_000)
    tile.locator("[data-testid=metric-value]", has_text="3777").wait_for(timeout=5000)


def test_alert_appears_is_acknowledged_and_clears(daphne, page, wedding_day):
    from apps.alerts.models import Alert, AlertRule

    AlertRule.objects.create(
        name="Gateway error rate high",
        metric="wedsync_gateway_error_rate",
        aggregation="last",
        comparator="gt",
        threshold=0.05,
        for_seconds=0,
        severity="critical",
    )
    open_wedding_day(page, daphne)
    alerts = page.locator(
        "section.tile-alert", has=page.locator(".tile-title", has_text="Active alerts")
    )
    alerts.locator("[data-testid=no-alerts]").wait_for()
    post_samples(
        daphne.url, wedding_day["token"], [{"name": "wedsync_gateway_error_rate", "value": 0.2}]
    )
    item = alerts.locator("li.alert-item", has_text="Gateway error rate high")
    item.wait_for(timeout=5000)
    assert "FIRING" in item.inner_text() and "critical" in item.inner_text()
    assert alerts.get_attribute("data-state") == "crit"
    screenshot(page, "dashboards-alert-firing")
    item.get_by_role("button", name="Acknowledge").click()
    item.locator(".badge", has_text="Acked").wait_for(timeout=5000)
    assert "acknowledged by oscar-operator" in item.inner_text()
    assert Alert.objects.get().acknowledged_at is not None
    post_samples(
        daphne.url, wedding_day["token"], [{"name": "wedsync_gateway_error_rate", "value": 0.001}]
    )
    alerts.locator("[data-testid=no-alerts]").wait_for(timeout=5000)


def test_emergency_button_declares_an_incident(daphne, page, wedding_day):
    from apps.alerts.models import Incident

    open_wedding_day(page, daphne)
    tile = page.locator("section.tile-alert", has=page.locator(".tile-title", has_text="Emergency"))
    tile.locator("[data-emergency=latency_spike]").click()
    page.wait_for_selector("#emergency-dialog[open]")
    page.fill("#em-reason", "p99 over 2 s across the UK since 14:05")
    screenshot(page, "dashboards-emergency-dialog")
    page.click("#em-submit")
    page.wait_for_function(
        "() => document.querySelector('#dash-status').textContent.includes('declared')"
    )
    incident = Incident.objects.get()
    assert incident.emergency_type == "latency_spike" and "p99 over 2 s" in incident.reason
    tile.locator(".incidents li", has_text=f"#{incident.pk}").wait_for(timeout=5000)
    # A venue network failure without a venue is refused, with the reason shown.
    tile.locator("[data-emergency=venue_network_failure]").click()
    page.fill("#em-reason", "no signal")
    page.click("#em-submit")
    page.wait_for_function(
        "() => document.querySelector('#em-errors').textContent.includes('venue')"
    )
    assert Incident.objects.count() == 1
