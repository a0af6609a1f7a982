"""Backtest: replay a load history minute by minute under three capacity policies.

- predictive: this app's policy (policy.decide) fed with the forecast (calendar + history)
- reactive:   an HPA-like policy: 10 % tolerance, 300 s scale-down stabilisation
- static:     the period's peak need, all the time

New units become ready only after a provisioning delay (scale-down is immediate),
which is what makes reacting late cost under-provisioned minutes.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from apps.scaling import calendar_source, forecast
from apps.scaling.calendar_source import LiveWedding
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


@dataclass
class LoadHistory:
    start: datetime
    load: np.ndarray  # connections per minute from start
    weddings: list[LiveWedding]
    ceremonies: list[tuple[datetime, datetime, float]] = field(default_factory=list)
    source: str = "generated"

    @property
    def minutes(self) -> int:
        return len(self.load)

    def hourly_history(self) -> forecast.HistorySource:
        """What the monitor would hold: hourly averages (messages as a tenth of connections)."""
        hours = self.minutes // 60
        hourly = self.load[: hours * 60].reshape(hours, 60).mean(axis=1)
        base = self.start.timestamp()

        def history(metric: str, start: datetime, end: datetime):
            lo = max(0, int((start.timestamp() - base) // 3600))
            hi = min(hours, int((end.timestamp() - base) // 3600))
            scale = 1.0 if metric == forecast.CONNECTIONS_METRIC else 0.1
            return [(base + i * 3600, float(hourly[i]) * scale) for i in range(lo, hi)]

        return history


# --- generated history ------------------------------------------------------------------


class SyntheticSeasons:
    """Used when the database has no regions: peak May-October, as the demo calendar."""

    MONTHS = {1: 0.8, 2: 0.8, 3: 0.9, 4: 1.1, 5: 1.4, 6: 1.5, 7: 1.5, 8: 1.5, 9: 1.4, 10: 1.2}

    def factor(self, at: datetime) -> float:
        return self.MONTHS.get(at.month, 0.85)


def synthetic_calendar(start: datetime, end: datetime, seed: int = 7) -> list[dict]:
    """A year of weddings shaped like the demo: Saturdays in peak season carry most."""
    rng = random.Random(seed)
    zones = ["Europe/London", "Europe/London", "Europe/Paris", "America/New_York"]
    out = []
    day = start.date()
    while day < end.date():
        peak = 5 <= day.month <= 10
        lam = {5: 36 if peak else 7, 4: 10 if peak else 2, 6: 10 if peak else 2}.get(
            day.weekday(), 2 if peak else 0.5
        )
        for _ in range(_poisson(rng, lam)):
            tz = ZoneInfo(rng.choice(zones))
            hour = rng.choices([12, 13, 14, 15, 16], weights=[1, 2, 6, 3, 1])[0]
            ceremony = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            out.append(
                {
                    "ceremony": ceremony.astimezone(UTC),
                    "end": (ceremony + timedelta(hours=rng.choice([8, 9, 10]))).astimezone(UTC),
                    "connections": float(rng.randint(25, 90)),
                }
            )
        day += timedelta(days=1)
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def calendar_ceremonies(start: datetime, end: datetime) -> list[dict]:
    """The registered weddings in the database (the demo calendar), as ceremony spans."""
    from apps.weddings.live import NOT_LIVE_STATUSES
    from apps.weddings.models import Wedding

    rows = Wedding.objects.filter(starts_at__lt=end, ends_at__gt=start).exclude(
        status__in=NOT_LIVE_STATUSES
    )
    return [
        {
            "ceremony": w.starts_at,
            "end": w.ends_at,
            "connections": calendar_source.expected_connections(w),
            "wedding": w,
        }
        for w in rows.select_related("venue")
    ]


def generate_load(
    start: datetime,
    minutes: int,
    ceremonies: Sequence[dict],
    seasons,
    base_connections: float = 200.0,
    seed: int = 7,
) -> np.ndarray:
    """Connections per minute: a daily and weekly rhythm × season, noise, and weddings.

    A wedding brings 20 % of its connections from the start of its live window
    (suppliers getting ready), all of them within 3 minutes of the ceremony (guests),
    and 40 % after the reception until the window closes.
    """
    rng = np.random.default_rng(seed)
    t0 = start.timestamp()
    ts = t0 + 60.0 * np.arange(minutes)
    hours = (ts % 86400) / 3600.0
    dow = ((ts // 86400).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    daily = 0.4 + 0.6 * np.clip(
        0.55 * np.exp(-(((hours - 11) / 3) ** 2)) + np.exp(-(((hours - 19) / 3.5) ** 2)), 0, 1
    )
    weekly = np.choose(dow, [1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.1])
    days = (minutes + 1439) // 1440
    season_by_day = np.array(
        [seasons.factor(start + timedelta(days=d, hours=12)) for d in range(days)]
    )
    season = np.repeat(season_by_day, 1440)[:minutes]
    noise = np.empty(minutes)
    shocks = rng.normal(0.0, 0.01, minutes)
    level = 0.0
    for i in range(minutes):  # AR(1): load drifts, it does not jump at random
        level = 0.97 * level + shocks[i]
        noise[i] = level
    load = base_connections * daily * weekly * season * np.exp(noise)
    for c in ceremonies:
        ws, we = window_of(c)
        expected = c["connections"]
        i_ws = _index(ws, t0)
        i_c = _index(c["ceremony"], t0)
        i_end = _index(c["end"], t0)
        i_we = _index(we, t0)
        _add(load, i_ws, i_c, 0.2 * expected)
        ramp_end = min(i_c + 3, i_end)
        if ramp_end > i_c:
            lo, hi = max(0, i_c), min(minutes, ramp_end)
            if hi > lo:
                steps = np.arange(lo, hi) - i_c + 1
                load[lo:hi] += expected * (0.2 + 0.8 * steps / (ramp_end - i_c))
        _add(load, ramp_end, i_end, expected)
        _add(load, i_end, i_we, 0.4 * expected)
    return load


def window_of(c: dict) -> tuple[datetime, datetime]:
    if "wedding" in c:
        return calendar_source.live_window(c["wedding"])
    from apps.weddings.live import lead, tail

    return c["ceremony"] - lead(), c["end"] + tail()


def _index(at: datetime, t0: float) -> int:
    return int((at.timestamp() - t0) // 60)


def _add(load: np.ndarray, lo: int, hi: int, value: float) -> None:
    lo, hi = max(0, lo), min(len(load), hi)
    if hi > lo:
        load[lo:hi] += value


def live_weddings(ceremonies: Iterable[dict]) -> list[LiveWedding]:
    found = []
    for i, c in enumerate(ceremonies):
        ws, we = window_of(c)
        found.append(LiveWedding(id=i, start=ws, end=we, connections=c["connections"]))
    return found


def build_history(
    start: datetime, end: datetime, calendar: str = "auto", seed: int = 7
) -> tuple[LoadHistory, object, str]:
    """Generated load from `start` - 4 weeks (the forecast learns from those) to `end`."""
    from apps.weddings.models import Region

    seasons = calendar_source.SeasonTable() if Region.objects.exists() else SyntheticSeasons()
    warm = start - timedelta(weeks=4)
    ceremonies = calendar_ceremonies(warm, end) if calendar != "synthetic" else []
    used = "demo calendar"
    if not ceremonies:
        if calendar == "demo":
            raise ValueError("no registered weddings in the range: run seed_demo first")
        ceremonies = synthetic_calendar(warm, end, seed)
        used = "synthetic calendar (no weddings in the database for this range)"
    minutes = int((end - warm) // MINUTE)
    load = generate_load(warm, minutes, ceremonies, seasons, seed=seed)
    return LoadHistory(warm, load, live_weddings(ceremonies)), seasons, used


def stored_history(start: datetime, end: datetime) -> LoadHistory | None:
    """Per-minute connections from the monitor, if it holds the range (else None)."""
    from apps.monitoring.query import query_range

    warm = start - timedelta(weeks=4)
    series = query_range(forecast.CONNECTIONS_METRIC, {}, warm, end, step=60, agg="avg")
    minutes = int((end - warm) // MINUTE)
    load = np.zeros(minutes)
    seen = np.zeros(minutes, dtype=bool)
    for s in series:
        for ts, value in s["points"]:
            i = int((ts - warm.timestamp()) // 60)
            if 0 <= i < minutes and value is not None:
                load[i] += value
                seen[i] = True
    if seen.mean() < 0.5:
        return None
    # Carry the last value over gaps (a scrape missed is not a drop to zero).
    for i in range(1, minutes):
        if not seen[i]:
            load[i] = load[i - 1]
    weddings = calendar_source.weddings_between(warm, end)
    return LoadHistory(warm, load, weddings, source="stored")


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
        lo, hi = _index(w.start, start.timestamp()), _index(w.end, start.timestamp())
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


# --- chart ------------------------------------------------------------------------


def chart(runs: list[PolicyRun], load: np.ndarray, start: datetime, capacity_per_unit: float):
    """Top: the busiest day minute by minute; bottom: the whole period, hourly peaks."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    minutes = len(load)
    peak = int(np.argmax(load))  # the 24 hours around the busiest minute
    lo = max(0, min(peak - 14 * 60, minutes - 1440))
    hi = min(minutes, lo + 1440)
    day_x = [start + timedelta(minutes=m) for m in range(lo, hi)]
    hours = minutes // 60
    hour_x = [start + timedelta(hours=h) for h in range(hours)]
    colours = {"predictive": "#7b5cd6", "reactive": "#e0a100", "static_peak": "#d9534f"}
    fig = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.12,
        subplot_titles=(
            f"The 24 h around the peak ({day_x[0]:%a %d %b %Y %H:%M} UTC on): load vs capacity",
            "Whole period: hourly peak load vs hourly mean capacity",
        ),
    )
    fig.add_trace(go.Scatter(x=day_x, y=load[lo:hi], name="load", line={"color": "#1f8a70"}), 1, 1)
    for run in runs:
        fig.add_trace(
            go.Scatter(
                x=day_x,
                y=run.units[lo:hi] * capacity_per_unit,
                name=run.name,
                line={"shape": "hv", "color": colours.get(run.name)},
            ),
            1,
            1,
        )
    hourly_load = load[: hours * 60].reshape(hours, 60).max(axis=1)
    fig.add_trace(
        go.Scatter(
            x=hour_x,
            y=hourly_load,
            name="load (hourly peak)",
            line={"color": "#1f8a70"},
            showlegend=False,
        ),
        2,
        1,
    )
    for run in runs:
        cap = run.units[: hours * 60].reshape(hours, 60).mean(axis=1) * capacity_per_unit
        fig.add_trace(
            go.Scatter(
                x=hour_x,
                y=cap,
                name=run.name,
                showlegend=False,
                line={"color": colours.get(run.name), "width": 1},
            ),
            2,
            1,
        )
    fig.update_yaxes(title_text="connections", rangemode="tozero")
    fig.update_layout(
        height=900, width=1400, template="plotly_white", legend={"orientation": "h", "y": 1.06}
    )
    return fig


def save_chart(fig, html_path, png_path) -> str | None:
    """HTML always (plotly.js inlined: no CDN); PNG through kaleido and Debian's Chromium.

    kaleido 1.x drives a browser through choreographer, which takes BROWSER_PATH before
    searching PATH; we point it at /usr/bin/chromium and never let it download one.
    Returns an error message if the PNG could not be written.
    """
    import os
    import shutil

    fig.write_html(str(html_path), include_plotlyjs=True, full_html=True)
    browser = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(browser):
        return f"no Chromium at {browser}: PNG skipped"
    os.environ["BROWSER_PATH"] = browser
    # They log each tab at INFO, and choreographer an ERROR for a pipe message it then
    # ignores; a real failure still raises from write_image.
    for name in ("kaleido", "logistro"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("choreographer").setLevel(logging.CRITICAL)
    # kaleido runs its own asyncio loop: give it a thread with none, whatever loop the
    # caller (a test with Playwright, an ASGI worker) has running in this one.
    errors: list[Exception] = []

    def render() -> None:
        try:
            fig.write_image(str(png_path), width=1400, height=900)
        except Exception as exc:  # the HTML is the record; the PNG is a convenience
            errors.append(exc)

    worker = threading.Thread(target=render, name="backtest-png", daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():
        return "PNG not written: kaleido did not finish within 120 s"
    if errors:
        return f"PNG not written: {errors[0]}"
    return None
