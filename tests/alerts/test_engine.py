"""Evaluation against real Redis windows and PostgreSQL alert state, with controlled time."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import engine
from apps.alerts.models import Alert, AlertTransition

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000.0
LAT = "wedsync_gateway_latency_ms"


def ingest(value, at, metric=LAT, **labels):
    labels = labels or {"quantile": "p99"}
    return engine.on_samples([(metric, labels, at, float(value))], now=at)


def history(alert):
    return [
        (t.from_state, t.to_state) for t in alert.transitions.all() if t.from_state != t.to_state
    ]


def test_threshold_crossing_fires_and_resolves_with_history(make_rule):
    rule = make_rule(threshold=250)
    assert ingest(100, T0) == []
    assert not Alert.objects.exists()  # nothing to record while all is well
    events = ingest(300, T0 + 1)
    assert [e["alert"]["state"] for e in events] == ["firing"]
    alert = Alert.objects.get(rule=rule)
    assert alert.labels == {"quantile": "p99"} and alert.value == 300
    ingest(320, T0 + 2)
    alert.refresh_from_db()
    assert alert.value == 320 and alert.state == "firing"
    ingest(120, T0 + 3)
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_at is not None
    assert history(alert) == [("inactive", "firing"), ("firing", "resolved")]


def test_one_alert_per_label_set(make_rule):
    make_rule(threshold=250)
    engine.on_samples(
        [
            (LAT, {"quantile": "p99", "pod": "a"}, T0, 300.0),
            (LAT, {"quantile": "p99", "pod": "b"}, T0, 400.0),
            (LAT, {"quantile": "p99", "pod": "c"}, T0, 10.0),
        ],
        now=T0,
    )
    assert sorted(a.labels["pod"] for a in Alert.objects.filter(state="firing")) == ["a", "b"]


def test_matchers_select_series(make_rule):
    make_rule(threshold=250, matchers={"quantile": "p99"})
    ingest(900, T0, quantile="p50")
    assert not Alert.objects.exists()


def test_for_seconds_pending_then_firing_on_the_periodic_pass(make_rule):
    rule = make_rule(threshold=250, for_seconds=30, window_seconds=120)
    ingest(300, T0)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "pending"
    engine.periodic_pass(now=T0 + 29)
    alert.refresh_from_db()
    assert alert.state == "pending"
    engine.periodic_pass(now=T0 + 30)
    alert.refresh_from_db()
    assert alert.state == "firing"
    assert history(alert) == [("inactive", "pending"), ("pending", "firing")]


def test_pending_that_clears_goes_back_to_inactive(make_rule):
    rule = make_rule(threshold=250, for_seconds=30)
    ingest(300, T0)
    ingest(100, T0 + 5)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "inactive"
    assert history(alert) == [("inactive", "pending"), ("pending", "inactive")]


def test_keep_firing_for_holds_then_resolves(make_rule):
    rule = make_rule(threshold=250, keep_firing_for_seconds=20)
    ingest(300, T0)
    ingest(100, T0 + 5)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "firing"
    ingest(100, T0 + 19)
    alert.refresh_from_db()
    assert alert.state == "firing"
    ingest(100, T0 + 20)
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_firing_alert_resolves_when_its_window_empties(make_rule):
    rule = make_rule(threshold=250, window_seconds=60)
    ingest(300, T0)
    engine.periodic_pass(now=T0 + 30)
    assert Alert.objects.get(rule=rule).state == "firing"
    engine.periodic_pass(now=T0 + 61)
    assert Alert.objects.get(rule=rule).state == "resolved"


def test_refiring_starts_a_new_episode_on_the_same_row(make_rule):
    rule = make_rule(threshold=250)
    ingest(300, T0)
    ingest(100, T0 + 1)
    ingest(300, T0 + 2)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "firing" and alert.episode == 2
    assert Alert.objects.count() == 1


def test_aggregation_over_the_window(make_rule):
    rule = make_rule(threshold=200, aggregation="avg", window_seconds=10)
    ingest(100, T0)
    ingest(290, T0 + 1)  # avg 195
    assert not Alert.objects.filter(state="firing").exists()
    ingest(250, T0 + 2)  # avg 213
    assert Alert.objects.get(rule=rule).state == "firing"
    ingest(100, T0 + 12)  # window now holds only 100
    assert Alert.objects.get(rule=rule).state == "resolved"


def test_no_data_rule_fires_when_silent_and_resolves_when_heard(make_rule):
    rule = make_rule(kind="no_data", metric="wedsync_db_up", no_data_seconds=15, threshold=0)
    ingest(1, T0, metric="wedsync_db_up", instance="db1")
    engine.periodic_pass(now=T0 + 14)
    assert not Alert.objects.filter(rule=rule, state="firing").exists()
    engine.periodic_pass(now=T0 + 15)
    alert = Alert.objects.get(rule=rule, state="firing")
    assert alert.labels == {"instance": "db1"}
    ingest(1, T0 + 16, metric="wedsync_db_up", instance="db1")
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_no_data_for_a_series_never_seen_counts_from_the_rule(make_rule):
    rule = make_rule(
        kind="no_data",
        metric="wedsync_celery_workers",
        no_data_seconds=10,
        matchers={"queue": "celery"},
    )
    created = rule.created_at.timestamp()
    engine.periodic_pass(now=created + 5)
    assert not Alert.objects.filter(state="firing").exists()
    engine.periodic_pass(now=created + 10)
    assert Alert.objects.get(rule=rule).labels == {"queue": "celery"}


def _stored_db_up(now: float) -> None:
    """db1 reported just now, db2 a minute ago, both stored by the monitor."""
    from apps.monitoring.ingest import ingest as store_samples

    store_samples(
        [
            {"name": "wedsync_db_up", "labels": {"instance": "db1"}, "value": 1, "ts": now},
            {"name": "wedsync_db_up", "labels": {"instance": "db2"}, "value": 1, "ts": now - 60},
        ],
        now=now,
    )


def test_no_data_is_judged_from_stored_samples_after_redis_restarts_empty(make_rule):
    from apps.alerts.windows import store

    rule = make_rule(kind="no_data", metric="wedsync_db_up", no_data_seconds=15, threshold=0)
    now = time.time()
    _stored_db_up(now)
    store().clear()  # what a Redis restart without persistence leaves
    engine.periodic_pass(now=now + 5)
    firing = Alert.objects.filter(rule=rule, state="firing")
    assert [a.labels for a in firing] == [{"instance": "db2"}]  # db1 reports: no false page


def test_no_data_is_judged_while_redis_is_down(make_rule):
    from django.test import override_settings

    from apps.alerts.windows import reset_store

    rule = make_rule(kind="no_data", metric="wedsync_db_up", no_data_seconds=15, threshold=0)
    now = time.time()
    _stored_db_up(now)
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):  # nothing listens there
        reset_store()
        try:
            engine.periodic_pass(now=now + 5)
        finally:
            reset_store()
    firing = Alert.objects.filter(rule=rule, state="firing")
    assert [a.labels for a in firing] == [{"instance": "db2"}]


def test_disabling_a_rule_resolves_its_alerts(make_rule):
    rule = make_rule(threshold=250)
    ingest(300, T0)
    rule.enabled = False
    rule.save()
    engine.periodic_pass(now=T0 + 1)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "resolved"
    assert "rule disabled" in alert.transitions.last().note


def test_wedding_day_threshold_applies_to_a_live_weddings_region(make_rule, live_wedding):
    rule = make_rule(threshold=500, wedding_day_threshold=200)
    now = timezone.now().timestamp()
    region = live_wedding.venue.region.code
    engine.on_samples(
        [(LAT, {"region": region}, now, 300.0), (LAT, {"region": "elsewhere"}, now, 300.0)], now=now
    )
    firing = Alert.objects.get(rule=rule, state="firing")
    assert firing.labels == {"region": region}
    assert firing.wedding_day and firing.threshold == 200
    assert "wedding-day threshold 200" in firing.transitions.last().note


def test_wedding_day_threshold_platform_wide_only_while_a_wedding_is_live(make_rule, live_wedding):
    rule = make_rule(threshold=500, wedding_day_threshold=200)
    now = timezone.now().timestamp()
    engine.on_samples([(LAT, {"quantile": "p99"}, now, 300.0)], now=now)
    assert Alert.objects.get(rule=rule).state == "firing"
    live_wedding.date = (timezone.now() + timedelta(days=3)).date()
    live_wedding.save()
    engine.on_samples([(LAT, {"quantile": "p99"}, now + 1, 300.0)], now=now + 1)
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "resolved"


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluators_make_one_alert_and_one_transition(make_rule):
    """Two evaluators race on a new alert: the unique constraint and the row lock leave one
    row and one inactive→firing transition."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    rule = make_rule(threshold=250)
    outcome = engine.Outcome(rule, "fp-race", {"pod": "x"}, True, 300.0, 250.0)

    def run():
        try:
            return engine.apply_outcomes([outcome], T0)
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: run(), range(4)))
    assert sum(len(r) for r in results) == 1
    assert Alert.objects.filter(rule=rule).count() == 1
    assert AlertTransition.objects.filter(alert__rule=rule).count() == 1


@pytest.mark.django_db(transaction=True)
def test_rule_changes_reach_the_ingest_path_cache(make_rule):
    """The per-process rule cache is keyed by a version in Redis bumped after commit: a rule
    created (or disabled) anywhere is used (or dropped) on the next batch."""
    assert ingest(900, T0) == []  # loads the (empty) rule cache
    rule = make_rule(threshold=250)
    assert [e["alert"]["state"] for e in ingest(900, T0 + 1)] == ["firing"]
    rule.threshold = 1000
    rule.save()
    assert [e["alert"]["state"] for e in ingest(900, T0 + 2)] == ["resolved"]


def test_with_redis_down_rules_are_judged_from_postgresql(make_rule, start_redis):
    """The window store is a fast path: with its Redis dead, the batch (already committed to
    PostgreSQL by ingest) is evaluated from the samples table, so "Redis down" can fire."""
    from apps.alerts import windows
    from apps.monitoring.ingest import ingest as store_samples

    rule = make_rule(
        metric="wedsync_redis_up",
        comparator="lt",
        threshold=1,
        aggregation="max",
        window_seconds=30,
    )
    dead = start_redis()
    dead.kill()
    now = time.time()
    batch = [
        {
            "name": "wedsync_redis_up",
            "labels": {"instance": "cache-1"},
            "value": v,
            "ts": now - 10 + i,
        }
        for i, v in enumerate([1.0, 0.0, 0.0])
    ]
    store_samples(batch)
    real = windows._store
    windows._store = windows.RedisWindowStore(f"redis://127.0.0.1:{dead.port}/0", "dead")
    try:
        events = engine.on_samples(
            [(s["name"], s["labels"], s["ts"], s["value"]) for s in batch[1:]], now=now
        )
    finally:
        windows._store = real
    assert events == []  # max over 30 s still sees the 1.0 from ten seconds ago
    store_samples(
        [
            {
                "name": "wedsync_redis_up",
                "labels": {"instance": "cache-1"},
                "value": 0.0,
                "ts": now + 25,
            }
        ]
    )
    windows._store = windows.RedisWindowStore(f"redis://127.0.0.1:{dead.port}/0", "dead")
    try:
        events = engine.on_samples(
            [("wedsync_redis_up", {"instance": "cache-1"}, now + 25, 0.0)], now=now + 25
        )
    finally:
        windows._store = real
    assert [e["alert"]["state"] for e in events] == ["firing"]
    assert Alert.objects.get(rule=rule).labels == {"instance": "cache-1"}
