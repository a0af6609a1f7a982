"""The load history a backtest replays: stored samples, or a generated year (a synthetic
calendar, Poisson-drawn weddings, the connections each one brings)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from apps.scaling import calendar_source, forecast
from apps.scaling.calendar_source import LiveWedding

MINUTE = timedelta(minutes=1)


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
        i_ws = minute_index(ws, t0)
        i_c = minute_index(c["ceremony"], t0)
        i_end = minute_index(c["end"], t0)
        i_we = minute_index(we, t0)
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


def minute_index(at: datetime, t0: float) -> int:
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
