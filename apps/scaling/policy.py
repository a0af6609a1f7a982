"""The capacity policy: pure functions of a config, the inputs and the time.

Rules, in the order they are tried (the first that applies decides):
  emergency        an emergency is active: jump to the emergency capacity at once.
  scale_up_load    the load now needs more units: scale up at once.
  scale_up_forecast the forecast peak within the lead time needs more: scale up ahead.
  end_surge        an emergency is over and the pool still carries its surge: back to
                   the units it ran before (never below need), at once, freeze or not.
  hold_freeze      fewer units would do, but a wedding is live: never scale down now.
  hold_stabilising fewer units would do, but not yet for the whole stabilisation window.
  scale_down       the load has needed fewer units for the whole window: scale down to
                   the window's peak need (never below the forecast's need).
  hold_no_observation no load observed: never scale down blind (forecast may scale up).
  steady           current capacity is right.
Scale-down targets come from observed load only (forecasts never scale in), as in
AWS predictive scaling; the window mirrors the Kubernetes HPA's stabilisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


class PolicyConfigError(ValueError):
    """Bad configuration: names the field that is wrong."""


@dataclass(frozen=True)
class PolicyConfig:
    capacity_per_unit: float
    min_units: int
    max_units: int
    emergency_units: int
    target_low: float = 0.70
    target_high: float = 0.75
    lead_time: timedelta = timedelta(minutes=15)
    stabilisation: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if not self.capacity_per_unit or self.capacity_per_unit <= 0:
            raise PolicyConfigError("capacity_per_unit must be greater than zero")
        if self.min_units < 0:
            raise PolicyConfigError("min_units must not be negative")
        if self.min_units > self.max_units:
            raise PolicyConfigError(
                f"min_units ({self.min_units}) is greater than max_units ({self.max_units})"
            )
        if not (0 < self.target_low <= self.target_high <= 1):
            raise PolicyConfigError("target utilisation needs 0 < low <= high <= 1")


@dataclass(frozen=True)
class PoolSnapshot:
    """What the policy remembers between decisions (stored in PoolState)."""

    current_units: int
    low_since: datetime | None = None
    # Units needed at each recent decision while below current: (time, units), in the window.
    recent_needs: tuple[tuple[datetime, int], ...] = ()


@dataclass(frozen=True)
class PolicyInputs:
    now: datetime
    load: float | None  # observed now: connections (web) or messages/s (worker); None: unknown
    forecast_peak: float | None = None  # highest forecast within [now, now + lead time]
    wedding_live: bool = False
    emergency: bool = False
    # Units the pool ran before the emergency that has just ended (None: no such surge).
    surge_floor: int | None = None


@dataclass(frozen=True)
class PolicyResult:
    desired_units: int
    rule: str
    reason: str
    load_units: int | None  # units the observed load needs at target
    forecast_units: int | None  # units the forecast peak needs at target
    state: PoolSnapshot = field(compare=False)

    @property
    def changes(self) -> bool:
        return self.desired_units != self.state.current_units


def units_for(load: float, config: PolicyConfig) -> int:
    """Fewest units that keep utilisation at or below the target's upper edge (75 %)."""
    if load <= 0:
        return 0
    # The tiny epsilon keeps 750/(100*0.75) = 10.000000001 from becoming 11.
    return math.ceil(load / (config.capacity_per_unit * config.target_high) - 1e-9)


def utilisation(load: float, units: int, config: PolicyConfig) -> float | None:
    return None if units <= 0 else load / (units * config.capacity_per_unit)


def clamp(units: int, config: PolicyConfig) -> int:
    return max(config.min_units, min(config.max_units, units))


def decide(config: PolicyConfig, state: PoolSnapshot, inputs: PolicyInputs) -> PolicyResult:
    current = state.current_units
    load_units = clamp(units_for(inputs.load, config), config) if inputs.load is not None else None
    forecast_units = (
        clamp(units_for(inputs.forecast_peak, config), config)
        if inputs.forecast_peak is not None
        else None
    )

    def result(desired: int, rule: str, reason: str, new_state: PoolSnapshot) -> PolicyResult:
        if desired != current:
            new_state = PoolSnapshot(current_units=desired)
        return PolicyResult(desired, rule, reason, load_units, forecast_units, new_state)

    if inputs.emergency:
        target = clamp(max(config.emergency_units, current), config)
        return result(
            target, "emergency", f"emergency capacity {target} units", PoolSnapshot(current)
        )

    if load_units is not None and load_units > current:
        target = max(load_units, forecast_units or 0)
        return result(
            target,
            "scale_up_load",
            f"load {inputs.load:g} needs {load_units} units at "
            f"{config.target_high:.0%}; running {current}",
            PoolSnapshot(current),
        )
    if forecast_units is not None and forecast_units > current:
        return result(
            forecast_units,
            "scale_up_forecast",
            f"forecast peak {inputs.forecast_peak:g} within {_minutes(config.lead_time)} min "
            f"needs {forecast_units} units",
            PoolSnapshot(current),
        )

    if inputs.surge_floor is not None and current > inputs.surge_floor:
        # The freeze forbids scaling below need, not handing back emergency capacity: the
        # pool returns to where it was, or to what the load, the forecast and the recent
        # window need if that is more.
        horizon = inputs.now - config.stabilisation
        recent_peak = max((u for t, u in state.recent_needs if t >= horizon), default=0)
        need = max(
            clamp(inputs.surge_floor, config),
            load_units or 0,
            forecast_units or 0,
            recent_peak,
            config.min_units,
        )
        if need < current:
            return result(
                need,
                "end_surge",
                f"emergency over: back from {current} to {need} units (not below need)",
                PoolSnapshot(current),
            )

    if load_units is None:
        return result(
            current, "hold_no_observation", "no load observed: holding", PoolSnapshot(current)
        )

    # Scale-down candidates: what observed load needs, never less than the forecast's need.
    floor_units = max(load_units, forecast_units or 0, config.min_units)
    if floor_units >= current:
        return result(current, "steady", f"{current} units fit the load", PoolSnapshot(current))

    low_since = state.low_since or inputs.now
    horizon = inputs.now - config.stabilisation
    recent = tuple((t, u) for t, u in state.recent_needs if t >= horizon) + (
        (inputs.now, floor_units),
    )
    window_peak = max(u for _, u in recent)
    waiting = replace(state, low_since=low_since, recent_needs=recent)
    if inputs.wedding_live:
        return result(
            current,
            "hold_freeze",
            f"{floor_units} units would do, but a wedding is live: no scale-down",
            waiting,
        )
    if inputs.now - low_since < config.stabilisation:
        left = config.stabilisation - (inputs.now - low_since)
        return result(
            current,
            "hold_stabilising",
            f"{window_peak} units would do; stabilising {int(left.total_seconds())} s more",
            waiting,
        )
    # Like the HPA: the highest need within the window, so a dip does not trigger a drop.
    return result(
        window_peak,
        "scale_down",
        f"load needed at most {window_peak} units for {_minutes(config.stabilisation)} min",
        PoolSnapshot(current),
    )


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g}"
