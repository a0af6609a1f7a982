"""Issue 15: an incident's emergency capacity ends with it, the pools come back down while
a wedding is still live (the freeze forbids scaling below need, not returning from a
surge), and its timeline counts one decision per pool. A real Celery worker actuates and
runs the scaling tick, as the periodic job does."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pools(db):
    from apps.scaling.context import bump_calendar_version, forget_emergency
    from apps.scaling.models import ScalingPolicy

    bump_calendar_version()
    forget_emergency()
    web = ScalingPolicy.objects.create(
        pool="web", capacity_per_unit=100, baseline_units=2, min_units=1, emergency_units=15,
        actuators=["gauges"],
    )  # fmt: skip
    worker = ScalingPolicy.objects.create(
        pool="worker", capacity_per_unit=10, baseline_units=2, min_units=1, actuators=["gauges"]
    )
    return web, worker


def wait_for_units(expected: dict[str, int], seconds: float = 20) -> dict[str, int]:
    from apps.scaling.models import PoolState

    deadline = time.monotonic() + seconds
    while True:
        units = dict(PoolState.objects.values_list("pool", "current_units"))
        if all(units.get(pool) == n for pool, n in expected.items()) or (
            time.monotonic() > deadline
        ):
            return units
        time.sleep(0.2)


def open_incident(operator_api, wedding) -> dict:
    response = operator_api.post(
        "/api/v1/incidents/",
        {"emergency_type": "venue_network_failure", "wedding": wedding.pk, "reason": "wifi down"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_timeline_counts_one_decision_per_pool_with_their_ids(
    operator_api, live_wedding, pools
):
    from apps.scaling.models import Decision

    body = open_incident(operator_api, live_wedding)
    event = next(e for e in body["timeline"] if e["kind"] == "capacity_requested")
    assert "(2 pool decision(s): " in event["message"]
    assert "web 2→15" in event["message"] and "worker 2→20" in event["message"]
    ids = event["data"]["decisions"]
    assert None not in ids
    assert sorted(Decision.objects.filter(pk__in=ids).values_list("pool", flat=True)) == [
        "web",
        "worker",
    ]


def test_resolving_ends_the_capacity_and_pools_return_while_the_wedding_is_live(
    operator_api, live_wedding, pools, celery_worker
):
    from apps.scaling.models import Decision, EmergencyCapacity
    from apps.scaling.tasks import tick
    from apps.weddings.live import is_any_wedding_live

    body = open_incident(operator_api, live_wedding)
    assert wait_for_units({"web": 15, "worker": 20}) == {"web": 15, "worker": 20}

    resolved = operator_api.post(f"/api/v1/incidents/{body['id']}/resolve/", {}, format="json")
    assert resolved.status_code == 200, resolved.json()
    assert not EmergencyCapacity.active().exists()
    assert "capacity_ended" in [e["kind"] for e in resolved.json()["timeline"]]

    # The scaling tick, as its periodic job runs it on the worker.
    assert is_any_wedding_live()
    tick.delay()
    deadline = time.monotonic() + 20
    while not Decision.objects.filter(tick__isnull=False).count() >= 2:
        assert time.monotonic() < deadline, "the tick decided nothing"
        time.sleep(0.2)
    decisions = {d.pool: d for d in Decision.objects.filter(tick__isnull=False)}
    for pool, decision in decisions.items():
        assert decision.rule == "end_surge", (pool, decision.rule, decision.reason)
        assert decision.inputs["wedding_live"] is True
        need = max(decision.inputs["load_units"] or 0, decision.inputs["forecast_units"] or 0)
        # Back to what it ran before the emergency, never below what it needs now.
        assert decision.desired_units == max(2, need), decision.inputs
    units = wait_for_units({p: d.desired_units for p, d in decisions.items()})
    assert units == {p: d.desired_units for p, d in decisions.items()}
    assert units["web"] < 15 and units["worker"] < 20
