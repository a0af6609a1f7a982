"""Issue 15: once an emergency is over its surge is handed back, even during the freeze,
but never below what the load, the forecast or the recent window need."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.scaling.policy import PolicyInputs, PoolSnapshot, decide
from tests.scaling.test_policy import CFG, T0


def run(state: PoolSnapshot, load, **kw):
    return decide(CFG, state, PolicyInputs(now=T0, load=load, **kw))


def test_a_surge_comes_back_down_during_the_freeze_but_not_below_need():
    r = run(PoolSnapshot(16), 100, wedding_live=True, surge_floor=3)
    assert (r.rule, r.desired_units) == ("end_surge", 3)
    # The load now needs 8 units (600 / 75 per unit): down to 8, not to 3.
    r = run(PoolSnapshot(16), 600, wedding_live=True, surge_floor=3)
    assert (r.rule, r.desired_units) == ("end_surge", 8)
    # The recent window needed 10: the stabilised need holds it there.
    recent = ((T0 - timedelta(minutes=2), 10),)
    r = run(PoolSnapshot(16, recent_needs=recent), 100, wedding_live=True, surge_floor=3)
    assert (r.rule, r.desired_units) == ("end_surge", 10)
    # Without an observation it still returns to where it was (a known state, not blind).
    r = run(PoolSnapshot(16), None, wedding_live=True, surge_floor=3)
    assert (r.rule, r.desired_units) == ("end_surge", 3)


def test_back_at_its_pre_surge_units_the_freeze_holds_again():
    r = run(PoolSnapshot(3), 100, wedding_live=True, surge_floor=3)
    assert (r.rule, r.desired_units) == ("hold_freeze", 3)  # 2 would do: the freeze holds
    r = run(PoolSnapshot(3), 100, wedding_live=False, surge_floor=3)
    assert r.rule == "hold_stabilising"  # and without a wedding, the normal rules decide
    r = run(PoolSnapshot(16), 100, emergency=True, surge_floor=3)  # still on: stays up
    assert (r.rule, r.desired_units) == ("emergency", 16)


@pytest.mark.django_db
def test_ending_an_emergency_by_hand_returns_the_pool_while_a_wedding_is_live(
    operator_api, web_policy, make_wedding
):
    from apps.scaling import services
    from apps.scaling.models import Decision, PoolState

    now = timezone.now()
    local = now.astimezone(ZoneInfo("Europe/London"))  # the fixture venue's timezone
    wedding = make_wedding(
        local.date(),
        (local - timedelta(minutes=30)).time().replace(microsecond=0),
        (local + timedelta(hours=2)).time().replace(microsecond=0),
        connections=150,  # needs 2 units of 100 at 75 %
    )
    assert wedding.starts_at < now
    r = operator_api.post("/api/v1/scaling/emergency/", {"reason": "venue down"}, format="json")
    assert r.status_code == 201 and r.json()[0]["desired_units"] == 15
    services.actuate(Decision.objects.get(pk=r.json()[0]["id"]))
    assert PoolState.objects.get(pool="web").current_units == 15
    assert operator_api.post("/api/v1/scaling/emergency/end/").json() == {"ended": 1}

    decision = services.decide_pool(web_policy, timezone.now() + timedelta(seconds=1), load=150)
    assert decision.inputs["wedding_live"] is True
    assert decision.rule == "end_surge", decision.reason
    assert decision.desired_units == max(2, decision.inputs["forecast_units"]) < 15
