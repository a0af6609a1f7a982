"""Every policy rule, with controlled time (pure functions: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.scaling.policy import (
    PolicyConfig,
    PolicyConfigError,
    PolicyInputs,
    PoolSnapshot,
    decide,
    units_for,
    utilisation,
)

T0 = datetime(2026, 6, 13, 10, 0, tzinfo=UTC)
CFG = PolicyConfig(
    capacity_per_unit=100,
    min_units=2,
    max_units=20,
    emergency_units=16,
    lead_time=timedelta(minutes=15),
    stabilisation=timedelta(minutes=10),
)


def run(state: PoolSnapshot, at: datetime, load, **kw):
    return decide(CFG, state, PolicyInputs(now=at, load=load, **kw))


def test_units_keep_utilisation_within_the_70_to_75_percent_target():
    for load in (140, 375, 750, 1000, 1499, 3333):
        units = units_for(load, CFG)
        assert utilisation(load, units, CFG) <= 0.75
        # One unit fewer would run hotter than the target: the count is the fewest that fit.
        assert utilisation(load, units - 1, CFG) > 0.75
    assert units_for(750, CFG) == 10  # exactly 75 %


def test_scale_up_on_load_is_immediate():
    r = run(PoolSnapshot(4), T0, load=900)  # needs 12 units at 75 %
    assert (r.rule, r.desired_units) == ("scale_up_load", 12)
    assert r.state.current_units == 12


def test_scale_up_ahead_of_a_forecast_peak():
    r = run(PoolSnapshot(4), T0, load=250, forecast_peak=1200)
    assert (r.rule, r.desired_units) == ("scale_up_forecast", 16)


def test_bounds_clamp_both_ways():
    assert run(PoolSnapshot(4), T0, load=10_000).desired_units == 20  # max
    r = run(PoolSnapshot(2), T0, load=0)
    assert (r.rule, r.desired_units) == ("steady", 2)  # min


def test_scale_down_only_after_the_stabilisation_window():
    state = PoolSnapshot(12)
    r = run(state, T0, load=300)  # 300 needs 4 units
    assert (r.rule, r.desired_units) == ("hold_stabilising", 12)
    r = run(r.state, T0 + timedelta(minutes=5), load=450)  # 6 units at the window's peak
    assert r.rule == "hold_stabilising"
    r = run(r.state, T0 + timedelta(minutes=9, seconds=59), load=300)
    assert r.rule == "hold_stabilising"
    r = run(r.state, T0 + timedelta(minutes=10), load=300)
    assert (r.rule, r.desired_units) == ("scale_down", 6)  # the window's peak, not the last


def test_a_load_spike_restarts_the_stabilisation_window():
    r = run(PoolSnapshot(12), T0, load=300)
    r = run(r.state, T0 + timedelta(minutes=6), load=1000)  # needs 14: scale up
    assert r.rule == "scale_up_load"
    r = run(r.state, T0 + timedelta(minutes=7), load=300)
    r = run(r.state, T0 + timedelta(minutes=11), load=300)
    assert r.rule == "hold_stabilising"


def test_never_scale_down_on_a_forecast_alone():
    # Load is high; a low forecast must not pull capacity down.
    r = run(PoolSnapshot(12), T0, load=880, forecast_peak=100)
    assert (r.rule, r.desired_units) == ("steady", 12)
    # Without an observation, nothing scales down however long we wait.
    r = run(PoolSnapshot(12), T0, load=None, forecast_peak=100)
    assert (r.rule, r.desired_units) == ("hold_no_observation", 12)
    # ...but a forecast may still scale up.
    r = run(PoolSnapshot(4), T0, load=None, forecast_peak=1200)
    assert r.rule == "scale_up_forecast"


def test_the_forecast_sets_a_floor_under_scale_down():
    r = run(PoolSnapshot(12), T0, load=100, forecast_peak=600)
    r = run(r.state, T0 + timedelta(minutes=11), load=100, forecast_peak=600)
    assert (r.rule, r.desired_units) == ("scale_down", 8)  # 600 at 75 % needs 8


def test_no_scale_down_while_a_wedding_is_live():
    r = run(PoolSnapshot(12), T0, load=100, wedding_live=True)
    assert (r.rule, r.desired_units) == ("hold_freeze", 12)
    r = run(r.state, T0 + timedelta(hours=3), load=100, wedding_live=True)
    assert (r.rule, r.desired_units) == ("hold_freeze", 12)
    # The wedding ends: the window has long passed, so it scales down at once.
    r = run(r.state, T0 + timedelta(hours=3, minutes=1), load=100, wedding_live=False)
    assert (r.rule, r.desired_units) == ("scale_down", 2)


def test_scale_up_still_happens_while_a_wedding_is_live():
    r = run(PoolSnapshot(4), T0, load=900, wedding_live=True)
    assert r.rule == "scale_up_load"


def test_emergency_jumps_to_emergency_capacity_and_never_down():
    r = run(PoolSnapshot(3), T0, load=100, emergency=True)
    assert (r.rule, r.desired_units) == ("emergency", 16)
    r = run(PoolSnapshot(19), T0, load=100, emergency=True)
    assert (r.rule, r.desired_units) == ("emergency", 19)  # already above: keep it


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity_per_unit": 0}, "capacity_per_unit"),
        ({"min_units": 30}, "min_units"),
        ({"target_low": 0.8, "target_high": 0.7}, "target"),
    ],
)
def test_bad_configuration_is_rejected(kwargs, message):
    base = {"capacity_per_unit": 100, "min_units": 2, "max_units": 20, "emergency_units": 20}
    with pytest.raises(PolicyConfigError, match=message):
        PolicyConfig(**{**base, **kwargs})


def test_needs_older_than_the_window_drop_out_of_the_scale_down_target():
    r = run(PoolSnapshot(12), T0, load=700)  # needs 10, below 12: window starts
    r = run(r.state, T0 + timedelta(minutes=5), load=300)
    r = run(r.state, T0 + timedelta(minutes=10), load=300)
    assert (r.rule, r.desired_units) == ("scale_down", 10)  # the 700 is still in the window
    r = run(PoolSnapshot(12), T0, load=700)
    r = run(r.state, T0 + timedelta(minutes=5), load=300)
    r = run(r.state, T0 + timedelta(minutes=16), load=300)
    assert (r.rule, r.desired_units) == ("scale_down", 4)  # only the last 10 minutes count
