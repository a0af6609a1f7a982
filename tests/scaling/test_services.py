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
    # No history and no wedding registered: the forecast (the calendar alone) says 0.
    assert samples[("wedsync_forecast_connections", None)] == 0


@pytest.mark.django_db
def test_a_wedding_registered_now_is_seen_by_the_next_decision(web_policy, make_wedding):
    before = services.decide_pool(web_policy, datetime(2026, 6, 13, 10, 50, tzinfo=UTC), load=100)
    assert before.inputs["forecast_parts"]["parts"]["weddings"] == 0  # context now cached
    make_wedding(NOON.date(), time(14), time(22), connections=1500)
    after = services.decide_pool(web_policy, datetime(2026, 6, 13, 10, 51, tzinfo=UTC), load=100)
    assert after.inputs["forecast_parts"]["parts"]["weddings"] == 1500
    assert after.rule == "scale_up_forecast"


@pytest.mark.django_db
def test_an_edit_without_signal_reaches_decisions_after_the_refresh_job(web_policy, make_wedding):
    """Decisions keep a local copy of the forecast context; a bulk edit (no signal, so no
    calendar version bump) must still reach them once the refresh job has rebuilt it."""
    from apps.weddings.models import Wedding

    at = datetime(2026, 6, 13, 10, 50, tzinfo=UTC)
    wedding = make_wedding(NOON.date(), time(14), time(22), connections=1500)
    services.refresh_forecast_context(at)
    first = services.decide_pool(web_policy, at, load=100)
    assert first.inputs["forecast_parts"]["parts"]["weddings"] == 1500
    Wedding.objects.filter(pk=wedding.pk).update(expected_connections=3000)  # no signal
    services.refresh_forecast_context(at + timedelta(seconds=30))
    after = services.decide_pool(web_policy, at + timedelta(seconds=31), load=100)
    assert after.inputs["forecast_parts"]["parts"]["weddings"] == 3000


@pytest.mark.django_db
def test_refresh_job_rebuilds_the_context_for_this_hour_and_the_next(web_policy):
    assert services.refresh_forecast_context(NOON) >= 2


@pytest.mark.django_db
def test_observed_load_comes_from_the_monitor_and_ignores_stale_samples(web_policy):
    import time as _time

    from apps.monitoring.ingest import ingest
    from apps.scaling.observe import current_load

    now = _time.time()
    ingest(
        [
            {
                "name": "wedsync_gateway_connections",
                "labels": {"process": "a"},
                "value": 500,
                "ts": now - 5,
            },
            {
                "name": "wedsync_gateway_connections",
                "labels": {"process": "b"},
                "value": 400,
                "ts": now - 3,
            },
            {
                "name": "wedsync_gateway_connections",
                "labels": {"process": "old"},
                "value": 999,
                "ts": now - 3600,
            },
        ]
    )
    assert current_load("web", now) == 900  # both live processes, not the stale one
    d = services.decide_pool(web_policy)
    assert d.inputs["load"] == 900 and d.rule == "scale_up_load"
    assert current_load("worker", now) is None


@pytest.mark.django_db
def test_a_scale_down_is_refused_by_the_calendar_freeze(web_policy, make_wedding, monkeypatch):
    """Even if the cached context missed a wedding, check_freeze has the last word."""
    from apps.scaling import context

    PoolState.objects.create(pool="web", current_units=12)
    make_wedding(NOON.date(), time(14), time(22))
    empty = context.DecisionContext(context.decision_context(NOON, timedelta(0)).points, [])
    monkeypatch.setattr(context, "decision_context", lambda now, lead, **_: empty)
    web_policy.stabilisation_seconds = 0
    web_policy.save()
    d = services.decide_pool(web_policy, NOON, load=100)
    assert d.rule == "hold_freeze"
    assert "wedding-day freeze" in d.inputs["freeze"]


@pytest.mark.django_db(transaction=True)
def test_committed_ingest_batches_feed_the_observed_load_through_redis(web_policy):
    import time as _time

    from apps.monitoring.ingest import ingest
    from apps.monitoring.models import Sample
    from apps.scaling import observe

    now = _time.time()
    samples = [
        {"name": "wedsync_gateway_connections", "labels": {"process": p}, "value": v, "ts": now - 2}
        for p, v in (("a", 700.0), ("b", 500.0))
    ]
    ingest(samples)
    assert observe._from_redis("wedsync_gateway_connections") is not None
    # An older batch committed late does not overwrite the newer value.
    ingest([{**samples[0], "value": 1.0, "ts": now - 60}])
    Sample.objects.all().delete()  # the decision no longer needs the database for this
    assert observe.current_load("web", now) == 1200
    d = services.decide_pool(web_policy)
    assert d.inputs["load"] == 1200 and d.desired_units == 16


@pytest.mark.django_db(transaction=True)
def test_decisions_start_from_the_pool_state_as_other_workers_left_it(web_policy):
    """A decision starts from the state this process last wrote, not a fresh read: when
    another worker changed the row meanwhile, the decision must still use the row as it
    is, and the scale-down bookkeeping must carry over from tick to tick."""
    tick = services.tick_key(NOON, 30)
    first = services.decide_pool(web_policy, NOON, tick=tick, load=900)
    assert (first.current_units, first.desired_units) == (2, 12)
    # Another worker applies it (this process never sees that write).
    other = PoolState.objects.get(pool="web")
    other.current_units = 12
    other.save()

    window = timedelta(seconds=web_policy.stabilisation_seconds)
    at = NOON + timedelta(seconds=30)
    rules = []
    while at <= NOON + timedelta(seconds=30) + window:
        tick += 30
        decision = services.decide_pool(web_policy, at, tick=tick, load=100)
        assert decision.current_units == 12  # the other worker's write, not our 2
        rules.append(decision.rule)
        if decision.rule == "hold_stabilising":  # the window runs from the first low tick
            assert PoolState.objects.get(pool="web").low_since == NOON + timedelta(seconds=30)
        at += timedelta(seconds=30)
    # Low load: held for the whole stabilisation window, then a scale-down.
    assert set(rules[:-1]) == {"hold_stabilising"}
    assert rules[-1] == "scale_down"
    assert decision.desired_units < 12
    assert Decision.objects.filter(pool="web").count() == len(rules) + 1
