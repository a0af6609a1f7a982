"""Backtest: replay a load history minute by minute under three capacity policies.

- predictive: this app's policy (policy.decide) fed with the forecast (calendar + history)
- reactive:   an HPA-like policy: 10 % tolerance, 300 s scale-down stabilisation
- static:     the period's peak need, all the time

New units become ready only after a provisioning delay (scale-down is immediate),
which is what makes reacting late cost under-provisioned minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from apps.scaling import forecast
from apps.scaling.history import LoadHistory, minute_index
from apps.scaling.policy import PolicyConfig, PolicyInputs, PoolSnapshot, decide

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class BacktestConfig:
    capacity_per_unit: float = 100.0
    baseline_units: int = 5
    min_units: int = 2
    max_units: int | None = None  # None: 10 x baseline
    target: float = 0.75
    lead_time: timedelta = timedelta(minutes=15)
    stabilisation: timedelta = timedelta(minutes=10)
    provision_delay_minutes: int = 4
    cost_per_unit_hour: float = 0.10
    reactive_tolerance: float = 0.10
    reactive_stabilisation_minutes: int = 5

    def policy(self) -> PolicyConfig:
        top = self.max_units or 10 * self.baseline_units
        return PolicyConfig(
            capacity_per_unit=self.capacity_per_unit,
            min_units=self.min_units,
            max_units=top,
            emergency_units=top,
            target_high=self.target,
            target_low=min(0.70, self.target),
            lead_time=self.lead_time,
            stabilisation=self.stabilisation,
        )


@dataclass
class PolicyRun:
    name: str
    units: np.ndarray  # ready units per minute
    under_minutes: int = 0
    under_minutes_wedding_saturdays: int = 0
    unit_hours: float = 0.0
    over_unit_hours: float = 0.0
    cost: float = 0.0
    scale_events: int = 0

    def summary(self, minutes: int) -> dict:
        return {
            "policy": self.name,
            "under_provisioned_minutes": self.under_minutes,
            "under_provisioned_pct": round(100 * self.under_minutes / max(1, minutes), 3),
            "under_minutes_wedding_saturdays": self.under_minutes_wedding_saturdays,
            "unit_hours": round(self.unit_hours, 1),
            "over_provisioned_unit_hours": round(self.over_unit_hours, 1),
            "cost": round(self.cost, 2),
            "scale_events": self.scale_events,
        }


# --- forecasting over the replay ------------------------------------------------------


def hourly_forecast(history: LoadHistory, start: datetime, end: datetime, seasons) -> np.ndarray:
    """Forecast per hour from start, re-learnt each week from the trailing four weeks."""
    source = history.hourly_history()
    hours = int((end - start) // forecast.HOUR)
    out = np.zeros(hours)
    week = 0
    while week * 168 < hours:
        at = start + timedelta(hours=168 * week)
        n = min(168, hours - 168 * week)
        baselines = forecast.Baselines.learn(at, source, seasons, history.weddings)
        points = forecast.hourly(
            at, n, baselines=baselines, seasons=seasons, weddings=history.weddings
        )
        out[168 * week : 168 * week + n] = [p.connections for p in points]
        week += 1
    return out


# --- the three policies -------------------------------------------------------------------


class Provisioner:
    """Units asked for become ready after a delay; removals take effect at once."""

    def __init__(self, units: int, delay: int):
        self.ready = units
        self.target = units
        self.delay = delay
        self.pending: list[tuple[int, int]] = []  # (ready at minute, units added)

    def ask(self, minute: int, units: int) -> bool:
        if units == self.target:
            return False
        if units > self.target:
            self.pending.append((minute + self.delay, units - self.target))
        else:
            drop = self.target - units
            # Cancel pending additions first, then remove running units.
            while drop and self.pending:
                at, n = self.pending.pop()
                take = min(n, drop)
                drop -= take
                if n > take:
                    self.pending.append((at, n - take))
            self.ready -= drop
        self.target = units
        return True

    def tick(self, minute: int) -> int:
        while self.pending and self.pending[0][0] <= minute:
            self.ready += self.pending.pop(0)[1]
        return self.ready


def run_policies(
    history: LoadHistory,
    start: datetime,
    end: datetime,
    config: BacktestConfig,
    forecast_hours: np.ndarray,
    progress: Callable[[Iterable, str, int], Iterable] | None = None,
) -> tuple[list[PolicyRun], dict]:
    pc = config.policy()
    offset = int((start - history.start) // MINUTE)
    minutes = int((end - start) // MINUTE)
    load = history.load[offset : offset + minutes]
    live = np.zeros(minutes, dtype=bool)
    for w in history.weddings:
        lo, hi = minute_index(w.start, start.timestamp()), minute_index(w.end, start.timestamp())
        lo, hi = max(0, lo), min(minutes, hi)
        if hi > lo:
            live[lo:hi] = True
    lead = int(config.lead_time.total_seconds() // 60)
    # Forecast peak within [t, t + lead]: the hours those minutes touch.
    hour_of = np.arange(minutes + lead) // 60
    hour_of = np.minimum(hour_of, len(forecast_hours) - 1)
    f_now = forecast_hours[hour_of[:minutes]]
    f_ahead = forecast_hours[hour_of[lead : lead + minutes]]
    f_peak = np.maximum(f_now, f_ahead)

    need = np.ceil(load / (pc.capacity_per_unit * pc.target_high) - 1e-9)
    static_units = int(min(max(need.max(), pc.min_units), 10**6))
    start_units = config.baseline_units
    predictive = Provisioner(start_units, config.provision_delay_minutes)
    reactive = Provisioner(start_units, config.provision_delay_minutes)
    pred_units = np.zeros(minutes, dtype=np.int64)
    reac_units = np.zeros(minutes, dtype=np.int64)
    state = PoolSnapshot(start_units)
    reactive_recs: list[tuple[int, int]] = []
    events = {"predictive": 0, "reactive": 0}
    t0 = start
    steps = range(minutes)
    if progress is not None:
        steps = progress(steps, "backtest minutes", minutes)
    for m in steps:
        observed = float(load[m - 1]) if m else float(load[0])
        # predictive (this app's policy)
        result = decide(
            pc,
            state,
            PolicyInputs(
                now=t0 + m * MINUTE,
                load=observed,
                forecast_peak=float(f_peak[m]),
                wedding_live=bool(live[m]),
            ),
        )
        state = result.state
        if predictive.ask(m, result.desired_units):
            events["predictive"] += 1
        pred_units[m] = predictive.tick(m)
        # reactive (HPA-like): ratio of utilisation to target, 10 % tolerance
        ready = max(1, reactive.ready)
        ratio = observed / (ready * pc.capacity_per_unit) / pc.target_high
        rec = reactive.target
        if abs(ratio - 1) > config.reactive_tolerance:
            rec = max(pc.min_units, min(pc.max_units, math.ceil(ready * ratio - 1e-9)))
        reactive_recs.append((m, rec))
        horizon = m - config.reactive_stabilisation_minutes
        while reactive_recs and reactive_recs[0][0] < horizon:
            reactive_recs.pop(0)
        desired = rec if rec > reactive.target else max(r for _, r in reactive_recs)
        if reactive.ask(m, desired):
            events["reactive"] += 1
        reac_units[m] = reactive.tick(m)

    saturday_mask = _wedding_saturdays(start, minutes, live)
    runs = [
        _score("predictive", pred_units, load, need, config, saturday_mask),
        _score("reactive", reac_units, load, need, config, saturday_mask),
        _score("static_peak", np.full(minutes, static_units), load, need, config, saturday_mask),
    ]
    runs[0].scale_events, runs[1].scale_events = events["predictive"], events["reactive"]
    info = {
        "minutes": minutes,
        "static_units": static_units,
        "peak_load": round(float(load.max()), 1),
        "mean_load": round(float(load.mean()), 1),
        "wedding_saturday_minutes": int(saturday_mask.sum()),
        "max_units": pc.max_units,
        "max_units_cover_peak": bool(pc.max_units >= need.max()),
    }
    return runs, info


def _wedding_saturdays(start: datetime, minutes: int, live: np.ndarray) -> np.ndarray:
    ts = start.timestamp() + 60.0 * np.arange(minutes)
    day = (ts // 86400).astype(np.int64)
    saturday = (day + 3) % 7 == 5
    days_with_weddings = np.unique(day[live & saturday])
    return np.isin(day, days_with_weddings)


def _score(name, units, load, need, config: BacktestConfig, saturdays) -> PolicyRun:
    capacity = units * config.capacity_per_unit
    under = load > capacity
    run = PolicyRun(name=name, units=units)
    run.under_minutes = int(under.sum())
    run.under_minutes_wedding_saturdays = int((under & saturdays).sum())
    run.unit_hours = float(units.sum()) / 60
    run.over_unit_hours = float(np.clip(units - need, 0, None).sum()) / 60
    run.cost = run.unit_hours * config.cost_per_unit_hour
    return run


def goals(runs: list[PolicyRun], minutes: int) -> dict:
    by = {r.name: r for r in runs}
    pred, static, reactive = by["predictive"], by["static_peak"], by["reactive"]
    under_pct = 100 * pred.under_minutes / max(1, minutes)
    saving = 1 - pred.unit_hours / static.unit_hours if static.unit_hours else 0.0
    return {
        "under_provisioned_pct": round(under_pct, 3),
        "under_provisioned_ok": under_pct <= 1.0,
        "unit_hours_saving_vs_static_pct": round(100 * saving, 1),
        "saving_ok": saving >= 0.30,
        "wedding_saturday_under_minutes": {
            "predictive": pred.under_minutes_wedding_saturdays,
            "reactive": reactive.under_minutes_wedding_saturdays,
        },
        "saturdays_ok": pred.under_minutes_wedding_saturdays
        < reactive.under_minutes_wedding_saturdays,
    }


def table(runs: list[PolicyRun], minutes: int) -> str:
    rows = [r.summary(minutes) for r in runs]
    cols = [
        ("policy", "policy", "{}"),
        ("under-prov. min", "under_provisioned_minutes", "{:,}"),
        ("under %", "under_provisioned_pct", "{:.3f}"),
        ("under min (wedding Sat)", "under_minutes_wedding_saturdays", "{:,}"),
        ("unit-hours", "unit_hours", "{:,.0f}"),
        ("over-prov. unit-h", "over_provisioned_unit_hours", "{:,.0f}"),
        ("cost", "cost", "{:,.2f}"),
        ("scale events", "scale_events", "{:,}"),
    ]
    cells = [[fmt.format(r[key]) for _, key, fmt in cols] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _, _) in enumerate(cols)]
    line = "  ".join(h.rjust(w) for (h, _, _), w in zip(cols, widths, strict=True))
    out = [line, "-" * len(line)]
    for c in cells:
        out.append("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    return "\n".join(out)
