"""Every page in Chromium at 1440x900 and 390x844: the phone layout, no third-party upload,
Swagger UI under the CSP, the time policy, and a dashboard window that survives a reload.

Screenshots go to docs/img/ (the documents show them)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import PASSWORD, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG = ROOT / "docs" / "img"
PAGES = [
    "/",
    "/dashboards/",
    "/dashboards/wedding-day/",
    "/alerts/",
    "/alerts/silences/",
    "/alerts/incidents/",
    "/monitor/",
    "/calendar/",
    "/realtime/",
    "/cache/",
    "/scaling/",
    "/api/docs/",
    "/api/redoc/",
]
PHONE = {"width": 390, "height": 844}
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def ops(admin_user_, operator_user):
    """The Wedding Day dashboard with an hour of samples, a firing alert, an API token."""
    from rest_framework.authtoken.models import Token

    from apps.alerts.models import AlertRule
    from apps.dashboards.demo_samples import sample_rows
    from apps.dashboards.wedding_day import ensure_wedding_day
    from apps.monitoring.ingest import ingest

    ensure_wedding_day()
    now = time.time()
    rows = list(sample_rows(now - 3600, now - 5, 30.0))
    for i in range(0, len(rows), 5000):
        ingest(rows[i : i + 5000], now=now)
    AlertRule.objects.create(
        name="Gateway error rate high",
        metric="wedsync_gateway_error_rate",
        aggregation="last",
        comparator="gt",
        threshold=0.05,
        for_seconds=0,
        severity="critical",
    )
    ingest([{"name": "wedsync_gateway_error_rate", "labels": {}, "value": 0.2, "ts": now}])
    return {"token": Token.objects.create(user=admin_user_).key}


def new_page(browser, viewport: dict, **context):
    ctx = browser.new_context(viewport=viewport, **context)
    page = ctx.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("websocket", lambda ws: seen.append(ws.url))
    blocked: list[str] = []
    # ReDoc's bundle asks for its vendor's logo from a CDN; our CSP (img-src 'self') stops
    # it in the browser: nothing leaves the machine. Any other foreign request fails.
    page.on(
        "requestfailed",
        lambda r: blocked.append(r.url) if "BLOCKED" in (r.failure or "").upper() else None,
    )
    page.offsite = seen  # every URL the page asked for, checked by assert_on_this_machine
    page.blocked = blocked
    return page


def assert_on_this_machine(page) -> None:
    foreign = [
        u
        for u in page.offsite
        if urlparse(u).scheme not in ("data", "blob", "about")
        and urlparse(u).hostname not in ("127.0.0.1", "localhost")
        # ReDoc's vendor logo: its bundle asks for it; our CSP's img-src 'self' refuses it
        # in the browser (asserted by test_redoc_logo_is_refused_by_the_csp below).
        and u != REDOC_LOGO
    ]
    assert not foreign, f"requests left this machine: {foreign[:5]}"


def log_in(page, base: str, username: str = "oscar-operator") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def settle(page, path: str) -> None:
    if path.startswith("/dashboards/wedding-day"):
        page.wait_for_selector("#conn[data-state=live]", timeout=20_000)
        page.wait_for_function("() => window.wsoDashboard.firstRenderMs !== undefined")
    elif path == "/api/docs/":
        page.wait_for_selector(".opblock", timeout=20_000)
    else:
        page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # charts draw after their data arrives


def shot(page, name: str) -> Path:
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_no_page_scrolls_sideways_on_a_phone_and_the_menu_folds(daphne, browser, ops):
    page = new_page(browser, PHONE)
    log_in(page, daphne.url)
    wide = {}
    for path in PAGES:
        page.goto(daphne.url + path)
        settle(page, path)
        sizes = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            wide[path] = sizes
    assert not wide, f"pages wider than a 390 px phone (scrollWidth, clientWidth): {wide}"

    # The menu is one button on a phone; it opens and closes.
    page.goto(f"{daphne.url}/alerts/")
    settle(page, "/alerts/")
    assert page.is_visible("#nav-toggle") and not page.is_visible("#main-nav")
    assert page.locator("header.topbar").bounding_box()["height"] < 80
    page.click("#nav-toggle")
    assert page.is_visible("#main-nav a[href='/calendar/']")
    assert page.get_attribute("#nav-toggle", "aria-expanded") == "true"
    page.click("#nav-toggle")
    assert not page.is_visible("#main-nav")
    # The alert's Acknowledge is on the screen, not off to the right.
    ack = page.get_by_role("button", name="Acknowledge").first
    ack.wait_for(timeout=10_000)
    box = ack.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shot(page, "phone-alerts-390")
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    settle(page, "/dashboards/wedding-day/")
    shot(page, "phone-wedding-day-390")
    page.goto(f"{daphne.url}/")
    settle(page, "/")
    page.click("#nav-toggle")
    shot(page, "phone-overview-menu-390")
    assert_on_this_machine(page)
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_no_page_offers_a_third_party_upload(daphne, browser, ops, viewport):
    page = new_page(browser, viewport)
    log_in(page, daphne.url)
    charts_seen = 0
    for path in PAGES:
        page.goto(daphne.url + path)
        settle(page, path)
        for plot in page.locator(".js-plotly-plot").all():
            charts_seen += 1
            plot.scroll_into_view_if_needed()
            plot.hover()  # the modebar shows on hover
            config = plot.evaluate(
                "p => ({cloud: p._context.showSendToCloud,"
                " studio: p._context.showEditInChartStudio,"
                " logo: p._context.displaylogo, server: p._context.plotlyServerURL})"
            )
            # (plotly.js 4 has no Chart Studio option any more: undefined is as good as off)
            assert config["studio"] in (False, None), path
            config.pop("studio")
            assert config == {"cloud": False, "logo": False, "server": ""}, path
        offers = page.evaluate(
            """() => [...document.querySelectorAll('.modebar-btn, a')].filter(e => {
                 const t = (e.getAttribute('data-title') || e.textContent || '').toLowerCase();
                 const href = e.getAttribute('href') || '';
                 return t.includes('share') || t.includes('cloud') || t.includes('chart studio')
                   || /plotly\\.com|plot\\.ly/.test(href)
                   || (/^https?:/.test(href) && !href.includes(location.host)
                       // (the API reference's sample values use RFC 2606's reserved
                       // example domains: no one's site)
                       && !/^https?:\\/\\/([a-z]+\\.)?example\\.(com|org|net)([/:]|$)/.test(href));
               }).map(e => e.outerHTML.slice(0, 120))"""
        )
        assert not offers, f"{path} offers an upload or an outside link: {offers}"
    assert charts_seen >= 5  # the Wedding Day charts at least were looked at
    if viewport is DESKTOP:
        page.goto(f"{daphne.url}/dashboards/wedding-day/")
        settle(page, "/dashboards/wedding-day/")
        chart = page.locator("section.tile-chart .js-plotly-plot").first
        chart.hover()
        page.wait_for_timeout(300)
        shot(page, "wedding-day-1440")
    assert_on_this_machine(page)
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_swagger_ui_renders_the_operations_under_the_csp(daphne, browser, ops, viewport):
    page = new_page(browser, viewport)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    log_in(page, daphne.url)
    csp = urllib.request.urlopen(f"{daphne.url}/healthz").headers.get("Content-Security-Policy")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1][:40]
    page.goto(f"{daphne.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
    assert "/api/v1/dashboards/{slug}/data/" in [p.replace("\u200b", "") for p in paths]
    assert len(paths) > 50
    assert not blocked, blocked
    shot(page, f"api-docs-{viewport['width']}")
    # ReDoc is one click from the menu.
    page.goto(f"{daphne.url}/")
    if viewport is PHONE:
        page.click("#nav-toggle")
    page.click("#main-nav a[href='/api/redoc/']")
    page.wait_for_selector("redoc, [role=navigation], .menu-content", timeout=20_000)
    assert_on_this_machine(page)
    page.context.close()


def data_requests(page) -> list[dict]:
    return page.evaluate(
        """() => performance.getEntriesByType('resource')
             .filter(r => r.name.includes('/data/')).map(r => r.name)"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_a_reload_keeps_the_time_range_and_the_link_shares_it(daphne, browser, ops, viewport):
    page = new_page(browser, viewport)
    log_in(page, daphne.url)
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    settle(page, "/dashboards/wedding-day/")
    assert page.get_attribute(".range-btn[data-range='6h']", "aria-pressed") == "true"
    with page.expect_response(lambda r: "/data/?range=24h" in r.url):
        page.click(".range-btn[data-range='24h']")
    query = parse_qs(urlparse(page.url).query)
    assert query == {"from": ["now-24h"], "to": ["now"]}
    page.reload()
    settle(page, "/dashboards/wedding-day/")
    assert page.get_attribute(".range-btn[data-range='24h']", "aria-pressed") == "true"
    assert any("range=24h" in u for u in data_requests(page)), data_requests(page)
    span = page.evaluate(
        "() => { const r = document.querySelector('section.tile-chart .js-plotly-plot')"
        ".layout.xaxis.range.map(v => new Date(v).getTime()); return r[1] - r[0]; }"
    )
    assert abs(span - 86_400_000) < 120_000

    # An absolute window from a shared link (epoch ms, as Grafana writes it).
    end = int(time.time() * 1000) - 600_000
    start = end - 1_800_000
    link = f"{daphne.url}/dashboards/wedding-day/?from={start}&to={end}"
    page.goto(link)
    settle(page, "/dashboards/wedding-day/")
    assert page.get_attribute(".range-btn[data-range='custom']", "aria-pressed") == "true"
    assert any(f"start={start / 1000:.3f}" in u for u in data_requests(page)), data_requests(page)
    # Back returns to the window looked at before.
    page.click(".range-btn[data-range='1h']")
    assert parse_qs(urlparse(page.url).query)["from"] == ["now-1h"]
    page.go_back()
    page.wait_for_function(
        "() => document.querySelector(\".range-btn[data-range='custom']\")"
        ".getAttribute('aria-pressed') === 'true'"
    )
    # A link with a window that cannot be read says so and shows the default.
    page.goto(f"{daphne.url}/dashboards/wedding-day/?from=yesterday&to=now")
    settle(page, "/dashboards/wedding-day/")
    assert "ignored" in page.inner_text("#dash-status")
    assert page.get_attribute(".range-btn[data-range='6h']", "aria-pressed") == "true"
    page.context.close()


def test_every_time_names_its_zone(daphne, browser, ops):
    """A viewer in New York: times are New York's, named (EST/EDT), with UTC on hover."""
    page = new_page(browser, DESKTOP, timezone_id="America/New_York")
    log_in(page, daphne.url)
    zone = page.evaluate(
        "() => new Intl.DateTimeFormat('en-GB', {timeZone: 'America/New_York',"
        " timeZoneName: 'short'}).formatToParts(new Date()).find(p => p.type ==="
        " 'timeZoneName').value"
    )
    assert zone in ("EST", "EDT", "GMT-5", "GMT-4")
    page.goto(f"{daphne.url}/")
    lede = page.locator(".lede time")
    assert zone in lede.inner_text() and lede.get_attribute("title").endswith(" UTC")
    page.goto(f"{daphne.url}/alerts/")
    page.get_by_role("button", name="Acknowledge").first.wait_for(timeout=10_000)
    assert zone in page.inner_text("main")
    assert " UTC (" not in page.inner_text("main")
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    settle(page, "/dashboards/wedding-day/")
    assert zone in page.inner_text("#updated") and "America/New_York" in page.inner_text(
        "#zone-note"
    )
    age = page.locator("section.tile-metric .metric-age").first.inner_text()
    assert zone in age and ("AM" not in age and "PM" not in age)  # 24-hour, named
    page.context.close()


def test_chart_legends_stay_off_the_axis_labels(daphne, browser, ops):
    page = new_page(browser, DESKTOP)
    log_in(page, daphne.url)
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    settle(page, "/dashboards/wedding-day/")
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('section.tile-chart')].flatMap(tile => {
             const legend = tile.querySelector('.legend');
             if (!legend) return [];
             const a = legend.getBoundingClientRect();
             return [...tile.querySelectorAll('.xtick text, .ytick text')].filter(t => {
               const b = t.getBoundingClientRect();
               return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
             }).map(t => tile.querySelector('.tile-title').textContent + ': ' + t.textContent);
           })"""
    )
    assert not overlaps, overlaps
    assert page.locator("section.tile-chart .legend").count() >= 3
    page.context.close()


def test_gateway_page_names_the_suppliers(daphne, browser, ops):
    """The gateway report lists suppliers by name (and quota), not by id."""
    from apps.realtime.store import get_store
    from apps.weddings.models import Supplier
    from tests.conftest import run_async

    supplier = Supplier.objects.create(name="Lumière Photography", max_connections=40)
    # What a gateway process reports every few seconds (in Redis, as the Daphnes do).
    stats = {"proc": "test-proc", "connections": 3, "per_supplier": {str(supplier.pk): 3}}
    run_async(get_store().write_stats("test-proc", stats))
    req = urllib.request.Request(
        f"{daphne.url}/api/v1/realtime/health/", headers={"Authorization": f"Token {ops['token']}"}
    )
    body = json.loads(urllib.request.urlopen(req).read())
    assert {"id": str(supplier.pk), "name": "Lumière Photography", "connections": 3,
            "max_connections": 40} in body["suppliers"]  # fmt: skip
    page = new_page(browser, DESKTOP)
    log_in(page, daphne.url)
    page.goto(f"{daphne.url}/realtime/")
    assert "Lumière Photography" in page.inner_text("#gw-suppliers")
    page.context.close()


def test_redoc_logo_is_refused_by_the_csp(daphne):
    csp = urllib.request.urlopen(f"{daphne.url}/api/redoc/").headers["Content-Security-Policy"]
    img = next(d for d in csp.split(";") if d.strip().startswith("img-src"))
    assert "cdn.redoc.ly" not in img and "https:" not in img.split()
