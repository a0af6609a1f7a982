"""Load forecast: baseline from history × season + the weddings of the calendar.

connections(h) = baseline_connections(hour of week of h) × season(h) + Σ weddings live in h
messages(h)    = baseline_messages(hour of week of h)    × season(h) + weddings part × rate

The baseline is learnt from the same hour of the week over recent weeks, with the
season and the weddings of those weeks taken out first, so a busy June Saturday in
history does not inflate an ordinary Tuesday in the forecast.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from apps.scaling import calendar_source, conf

HOUR = timedelta(hours=1)
WEEK_HOURS = 168
CONNECTIONS_METRIC = "wedsync_gateway_connections"
MESSAGES_METRIC = "wedsync_gateway_messages_in_per_s"

# (metric name, start, end) -> [(unix ts, value), ...]
HistorySource = Callable[[str, datetime, datetime], Sequence[tuple[float, float]]]


@dataclass(frozen=True)
class ForecastPoint:
    at: datetime  # start of the hour (UTC)
    connections: float
    messages_per_s: float
    baseline_connections: float
    baseline_messages: float
    season: float
    wedding_connections: float
    weddings_live: int

    def as_dict(self) -> dict:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        d["parts"] = {
            "baseline": round(self.baseline_connections, 2),
            "season": round(self.season, 4),
            "weddings": round(self.wedding_connections, 2),
            "weddings_live": self.weddings_live,
            "baseline_messages": round(self.baseline_messages, 3),
        }
        for key in ("baseline_connections", "baseline_messages", "wedding_connections", "season"):
            d.pop(key)
        d["connections"] = round(self.connections, 2)
        d["messages_per_s"] = round(self.messages_per_s, 3)
        d.pop("weddings_live")
        return d


@dataclass(frozen=True)
class DailyPoint:
    day: str
    peak_connections: float
    mean_connections: float
    peak_messages_per_s: float
    peak_hour: datetime
    weddings: int
    parts_at_peak: dict

    def as_dict(self) -> dict:
        d = asdict(self)
        d["peak_hour"] = self.peak_hour.isoformat()
        return d


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_of_week(at: datetime) -> int:
    at = at.astimezone(UTC)
    return at.weekday() * 24 + at.hour


def monitoring_history(metric: str, start: datetime, end: datetime) -> list[tuple[float, float]]:
    """Hourly averages of a metric from the monitor."""
    from apps.monitoring.query import query_range

    series = query_range(metric, {}, start, end, step=3600, agg="avg")
    # Several series (one per process) add up to the system's load in each hour.
    summed: dict[float, float] = defaultdict(float)
    for s in series:
        for ts, value in s["points"]:
            if value is not None:
                summed[float(ts)] += float(value)
    return sorted(summed.items())


def wedding_load_by_hour(
    start: datetime, hours: int, weddings: Sequence[calendar_source.LiveWedding] | None = None
) -> tuple[list[float], list[int]]:
    """Expected wedding connections and count of live weddings for each hour from start.

    `weddings` defaults to the calendar; the backtest passes its own (generated) list.
    """
    load = [0.0] * hours
    count = [0] * hours
    end = start + hours * HOUR
    if weddings is None:
        weddings = calendar_source.weddings_between(start, end)
    for w in weddings:
        if w.end <= start or w.start >= end:
            continue
        first = max(0, int((w.start - start) // HOUR))
        last = min(hours, -int(-(w.end - start) // HOUR))  # ceil: the hour it ends in counts
        for i in range(first, last):
            load[i] += w.connections
            count[i] += 1
    return load, count


def learn_baseline(
    history: HistorySource,
    at: datetime,
    metric: str,
    weeks: int | None = None,
    seasons: calendar_source.SeasonTable | None = None,
    wedding_part: Callable[[datetime, int], list[float]] | None = None,
) -> list[float | None]:
    """Deseasonalised, wedding-free mean for each of the 168 hours of the week."""
    weeks = weeks or conf.history_weeks()
    end = hour_floor(at)
    start = end - weeks * WEEK_HOURS * HOUR
    rows = history(metric, start, end)
    if not rows:
        return [None] * WEEK_HOURS
    seasons = seasons or calendar_source.SeasonTable()
    hours = weeks * WEEK_HOURS
    weddings = (wedding_part or (lambda s, n: wedding_load_by_hour(s, n)[0]))(start, hours)
    sums = [0.0] * WEEK_HOURS
    counts = [0] * WEEK_HOURS
    for ts, value in rows:
        moment = datetime.fromtimestamp(ts, UTC)
        index = int((moment - start) // HOUR)
        wedding = weddings[index] if 0 <= index < hours else 0.0
        season = seasons.factor(moment) or 1.0
        slot = hour_of_week(moment)
        sums[slot] += max(0.0, value - wedding) / season
        counts[slot] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def fill_gaps(table: list[float | None], default: float) -> list[float]:
    """Hours of the week without history take the mean of those with (enough of them)."""
    known = [v for v in table if v is not None]
    fallback = sum(known) / len(known) if known else default
    return [fallback if v is None else v for v in table]


@dataclass
class Baselines:
    connections: list[float]
    messages: list[float]
    learnt_hours: int  # hours of the week that had history
    # Too few learnt hours: the baseline is 0 and the forecast is the calendar's alone.
    enough_history: bool = True
    needed_hours: int = 0

    def describe(self) -> dict:
        """What the forecast rests on, for its API and page."""
        if self.enough_history:
            basis = "history and calendar"
            note = (
                f"Baseline learnt from {self.learnt_hours} of the week's {WEEK_HOURS} hours "
                "of history, times the season, plus the registered weddings."
            )
        else:
            basis = "calendar only"
            note = (
                f"Too little history: {self.learnt_hours} of the week's {WEEK_HOURS} hours "
                f"have data ({self.needed_hours} needed). The forecast is the registered "
                "weddings alone, with no baseline."
            )
        return {
            "learnt_hours": self.learnt_hours,
            "needed_hours": self.needed_hours,
            "enough": self.enough_history,
            "basis": basis,
            "note": note,
        }

    @classmethod
    def learn(
        cls,
        at: datetime,
        history: HistorySource | None = None,
        seasons: calendar_source.SeasonTable | None = None,
        weddings: Sequence[calendar_source.LiveWedding] | None = None,
    ) -> Baselines:
        history = history or monitoring_history
        seasons = seasons or calendar_source.SeasonTable()

        def part(s: datetime, n: int) -> list[float]:
            return wedding_load_by_hour(s, n, weddings)[0]

        conn = learn_baseline(history, at, CONNECTIONS_METRIC, seasons=seasons, wedding_part=part)
        # Message history has no wedding part to take out: its rate follows connections.
        rate = conf.messages_per_connection()
        msgs = learn_baseline(
            history,
            at,
            MESSAGES_METRIC,
            seasons=seasons,
            wedding_part=lambda s, n: [x * rate for x in part(s, n)],
        )
        learnt = sum(1 for v in conn if v is not None)
        needed = conf.min_history_hours()
        if learnt < needed:
            # A few hours copied across the whole week are no baseline (7 demo hours once
            # forecast 874-2,670 connections at every hour of an idle gateway).
            zeros = [0.0] * WEEK_HOURS
            return cls(zeros, list(zeros), learnt, enough_history=False, needed_hours=needed)
        return cls(fill_gaps(conn, 0.0), fill_gaps(msgs, 0.0), learnt, needed_hours=needed)


def hourly(
    start: datetime,
    hours: int,
    *,
    history: HistorySource | None = None,
    baselines: Baselines | None = None,
    seasons: calendar_source.SeasonTable | None = None,
    weddings: Sequence[calendar_source.LiveWedding] | None = None,
) -> list[ForecastPoint]:
    """One point per hour from the hour containing `start`."""
    start = hour_floor(start)
    seasons = seasons or calendar_source.SeasonTable()
    baselines = baselines or Baselines.learn(start, history, seasons, weddings)
    wedding_load, wedding_count = wedding_load_by_hour(start, hours, weddings)
    rate = conf.messages_per_connection()
    points = []
    for i in range(hours):
        at = start + i * HOUR
        slot = hour_of_week(at)
        season = seasons.factor(at)
        base_c = baselines.connections[slot]
        base_m = baselines.messages[slot]
        wed = wedding_load[i]
        points.append(
            ForecastPoint(
                at=at,
                connections=base_c * season + wed,
                messages_per_s=base_m * season + wed * rate,
                baseline_connections=base_c,
                baseline_messages=base_m,
                season=season,
                wedding_connections=wed,
                weddings_live=wedding_count[i],
            )
        )
    return points


def daily(
    start: datetime,
    days: int,
    *,
    history: HistorySource | None = None,
    baselines: Baselines | None = None,
) -> list[DailyPoint]:
    """Peak and mean per UTC day (capacity must cover each day's peak hour)."""
    day0 = hour_floor(start).replace(hour=0)
    points = hourly(day0, days * 24, history=history, baselines=baselines)
    out = []
    for d in range(days):
        chunk = points[d * 24 : (d + 1) * 24]
        peak = max(chunk, key=lambda p: p.connections)
        out.append(
            DailyPoint(
                day=chunk[0].at.date().isoformat(),
                peak_connections=round(peak.connections, 2),
                mean_connections=round(sum(p.connections for p in chunk) / 24, 2),
                peak_messages_per_s=round(max(p.messages_per_s for p in chunk), 3),
                peak_hour=peak.at,
                weddings=max(p.weddings_live for p in chunk),
                parts_at_peak=peak.as_dict()["parts"],
            )
        )
    return out


def peak_within(points: Sequence[ForecastPoint], start: datetime, end: datetime) -> ForecastPoint:
    """The highest forecast hour overlapping [start, end]."""
    window = [p for p in points if p.at + HOUR > start and p.at <= end]
    return max(window, key=lambda p: p.connections)
