"""One number means one thing: a Wedding Day tile bound to an alert rule shows the value the
rule evaluates (same window, aggregation and thresholds), the Active Alerts tile names the
measure of its number, and the Services tile never reads OK beside a firing alert."""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import expect

from apps.alerts import tiles
from apps.alerts.models import Alert, AlertRule
from tests.conftest import login

# 5-minute average 0.73, last sample 0.87: the numbers of the issue.
HIT_RATIOS = [0.65, 0.65, 0.70, 0.78, 0.87]


def cache_rule(**fields) -> AlertRule:
    spec = dict(name="Cache hit ratio low", metric="wedsync_cache_hit_ratio",
                matchers={"tier": "total"}, aggregation="avg", window_seconds=300,
                comparator="lt", threshold=0.6, wedding_day_threshold=0.8, for_seconds=0,
                severity="warning")  # fmt: skip
    spec.update(fields)
    return AlertRule.objects.create(**spec)


def ingest_ratios(now: float, thread: bool = True) -> None:
    """Store the samples (in another thread when Playwright owns this one's loop; that
    thread's connection commits, so only transactional tests may use it)."""
    from apps.monitoring.ingest import ingest

    samples = [
        {"name": "wedsync_cache_hit_ratio", "labels": {"tier": "total"}, "value": v,
         "ts": now - 240 + i * 60}
        for i, v in enumerate(HIT_RATIOS)
    ]  # fmt: skip
    if not thread:
        ingest(samples)
        return
    worker = threading.Thread(target=ingest, args=(samples,))
    worker.start()
    worker.join()


@pytest.mark.django_db
def test_rule_tile_is_the_rules_own_value_and_bands(live_wedding):
    rule = cache_rule()
    now = time.time()
    ingest_ratios(now, thread=False)
    tile = tiles.rule_tile(rule.name, now=now + 1)
    assert tile["value"] == pytest.approx(0.73)
    assert tile["threshold"] == 0.8 and tile["wedding_day"] is True
    assert tile["bands"] == {"warn": 0.8, "crit": 0.6, "direction": "below"}
    assert tile["caption"] == (
        "average over 5 min, as rule “Cache hit ratio low” evaluates it: "
        "fires < 0.8 (wedding-day threshold)"
    )
    assert tiles.rule_tile("no such rule") is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wedding_day_tiles_agree_with_the_firing_alert(page, daphne, make_user, live_wedding):
    from apps.dashboards.wedding_day import ensure_wedding_day

    ensure_wedding_day()
    rule = cache_rule()
    ingest_ratios(time.time())
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "firing" and alert.value == pytest.approx(0.73)
    make_user("nina", "operator")
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, daphne.url, "nina")
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    cache = page.get_by_role("region", name="Cache hit ratio", exact=True)
    expect(cache.locator("[data-testid=metric-value]")).to_have_text("73.0")
    expect(cache).to_have_attribute("data-state", "warn")
    expect(cache).to_contain_text("average over 5 min, as rule “Cache hit ratio low”")
    alerts = page.get_by_role("region", name="Active alerts", exact=True)
    expect(alerts).to_contain_text("average over 5 min 0.73")
    services = page.get_by_role("region", name="Services", exact=True)
    cache_item = services.locator("[data-component=Cache]")
    expect(cache_item).to_contain_text("hit ratio 87% (latest sample)")
    expect(cache_item).to_contain_text(
        "alert “Cache hit ratio low” FIRING: average over 5 min 0.73"
    )
    expect(cache_item).to_have_class("state-warn")
    page.locator("#at-risk").scroll_into_view_if_needed()
    page.screenshot(path="docs/img/one-number-wedding-day.png")
