"""Decisions end to end: recording, one per tick, shadow mode, the freeze, gauges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from threading import Barrier, Thread

import pytest
from django.db import connection

from apps.scaling import services
from apps.scaling.models import Decision, PoolState

NOON = datetime(2026, 6, 13, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_decision_records_inputs_rule_and_outcome(web_policy):
    decision = services.decide_pool(web_policy, NOON, load=900)
    services.actuate(decision)
    decision.refresh_from_db()
    assert decision.rule == "scale_up_load"
    assert (decision.current_units, decision.desired_units) == (2, 12)
    assert decision.outcome == "applied"
    assert decision.inputs["load"] == 900
    assert decision.inputs["load_units"] == 12
    assert "forecast_parts" in decision.inputs and "config" in decision.inputs
    assert PoolState.objects.get(pool="web").current_units == 12


@pytest.mark.django_db
def test_tick_interval_is_15_s_in_wedding_day_mode(make_wedding):
    assert services.tick_interval(NOON) == 30
    make_wedding(NOON.date(), time(14), time(22))
    assert services.tick_interval(NOON) == 15
    assert services.tick_key(NOON + timedelta(seconds=44), 30) == services.tick_key(
        NOON + timedelta(seconds=31), 30
    )


@pytest.mark.django_db(transaction=True)
def test_one_decision_per_tick_across_concurrent_workers(web_policy):
    barrier = Barrier(4)
    results = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.decide_pool(web_policy, NOON, tick=1_781_352_000, load=150))
        finally:
            connection.close()

    threads = [Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r is not None) == 1
    assert Decision.objects.filter(pool="web", tick=1_781_352_000).count() == 1


@pytest.mark.django_db
def test_run_tick_is_idempotent_within_a_tick(web_policy, worker_policy):
    first = services.run_tick(NOON)
    again = services.run_tick(NOON + timedelta(seconds=10))
    assert len(first) == 2 and again == []
    later = services.run_tick(NOON + timedelta(seconds=30))
    assert len(later) == 2


@pytest.mark.django_db
def test_shadow_mode_records_but_never_changes_capacity(web_policy):
    web_policy.mode = "shadow"
    web_policy.save()
    decision = services.decide_pool(web_policy, NOON, load=900)
    services.actuate(decision)
    decision.refresh_from_db()
    assert (decision.rule, decision.desired_units, decision.outcome) == (
        "scale_up_load",
        12,
        "shadow",
    )
    assert decision.actuation == []
    assert PoolState.objects.get(pool="web").current_units == 2


@pytest.mark.django_db
def test_the_freeze_holds_scale_down_while_a_wedding_is_live(web_policy, make_wedding):
    PoolState.objects.create(pool="web", current_units=12)
    make_wedding(NOON.date(), time(14), time(22))  # live from 11:00 UTC
    for minute in range(0, 60, 5):
        d = services.decide_pool(web_policy, NOON + timedelta(minutes=minute), load=100)
        services.actuate(d)
        assert d.rule == "hold_freeze"
    assert PoolState.objects.get(pool="web").current_units == 12
    # After the live window (22:00 UTC) the window has long passed: scale down at once,
    # to what the load and the next forecast hour need (the wedding is no longer in it).
    d = services.decide_pool(web_policy, datetime(2026, 6, 13, 22, 5, tzinfo=UTC), load=100)
    services.actuate(d)
    assert d.rule == "scale_down"
    assert d.inputs["forecast_parts"]["parts"]["weddings"] == 0
    assert d.desired_units == max(d.inputs["load_units"], d.inputs["forecast_units"]) < 12
    assert PoolState.objects.get(pool="web").current_units == d.desired_units


@pytest.mark.django_db
def test_the_forecast_scales_up_ahead_of_a_wedding(web_policy, make_wedding):
    make_wedding(NOON.date(), time(14), time(22), connections=1500)  # live from 11:00 UTC
    d = services.decide_pool(web_policy, datetime(2026, 6, 13, 10, 50, tzinfo=UTC), load=100)
    assert d.rule == "scale_up_forecast"
    assert d.desired_units >= 20  # 1,500 wedding connections at 75 % need 20 units
    assert d.inputs["forecast_parts"]["parts"]["weddings"] == 1500


@pytest.mark.django_db
def test_gauges_on_metrics_show_desired_and_current(web_policy, client):
    d = services.decide_pool(web_policy, NOON, load=900)
    services.actuate(d)
    body = client.get("/metrics").content.decode()
    assert 'wedsync_desired_capacity{pool="web"} 12.0' in body
    assert 'wedsync_current_capacity{pool="web"} 12.0' in body


@pytest.mark.django_db
def test_collectors_emit_capacity_and_forecast(web_policy):
    from apps.scaling.collectors import collect

    services.actuate(services.decide_pool(web_policy, load=900))
    samples = {(s["name"], s["labels"].get("pool")): s["value"] for s in collect()}
    assert samples[("wedsync_capacity_desired", "web")] == 12
    assert samples[("wedsync_capacity_current", "web")] == 12
    assert samples[("wedsync_forecast_connections", None)] > 0
