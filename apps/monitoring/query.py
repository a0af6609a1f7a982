"""Reading metrics: range queries with step and aggregation, latest values, names.

Short ranges come from raw samples, long ones from rollups (1 minute, then 1 hour),
so a query costs about the same whatever its range. Every series returns at most
conf.MAX_POINTS points: when the step asked for would give more, buckets are
aggregated at a finer step and thinned with LTTB, which keeps peaks visible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import OuterRef, Subquery

from apps.monitoring import conf
from apps.monitoring.downsample import lttb
from apps.monitoring.models import Rollup, Sample, Series

AGGREGATIONS = ("avg", "min", "max", "sum", "count", "last", "p95")
SOURCES = {0: "raw", Rollup.MINUTE: "1m", Rollup.HOUR: "1h"}


class QueryError(ValueError):
    """A query that cannot be answered as asked; the message names the parameter."""


def to_unix(value: datetime | float | int) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def matching_series(name: str, matchers: dict[str, str] | None = None) -> list[Series]:
    """Series of a metric whose labels include every matcher (label = value).

    Filtered in Python: the cardinality guard bounds the series per metric, and it
    behaves the same on PostgreSQL and SQLite.
    """
    matchers = matchers or {}
    found = []
    for series in Series.objects.filter(name=name).only("id", "labels"):
        if all(series.labels.get(k) == v for k, v in matchers.items()):
            found.append(series)
    return found


@dataclass(frozen=True)
class Plan:
    resolution: int  # 0 raw, else rollup bucket seconds
    step: float  # the bucket width of the points returned before thinning
    thin_to: int  # LTTB target, 0 for none


def plan(start: float, end: float, step: float | None, now: float | None = None) -> Plan:
    """Pick the source and the step for a range (pure: tested without a database)."""
    now = time.time() if now is None else now
    span = end - start
    # The step never gives more than 10× the point budget; LTTB thins the rest.
    floor = span / (conf.MAX_POINTS * 10)
    wanted = step if step else span / conf.MAX_POINTS
    if span <= conf.RAW_QUERY_MAX_RANGE and start >= now - conf.RAW_RETENTION:
        resolution = 0
    elif wanted < Rollup.HOUR and start >= now - conf.MINUTE_RETENTION:
        resolution = Rollup.MINUTE
    else:
        resolution = Rollup.HOUR
    effective = max(wanted, floor, float(resolution) or 0.001)
    if resolution:
        # Buckets of whole rollups, so each point aggregates complete buckets.
        effective = max(resolution, round(effective / resolution) * resolution)
    buckets = span / effective
    return Plan(resolution, effective, conf.MAX_POINTS if buckets > conf.MAX_POINTS else 0)


def _group(ts: np.ndarray, start: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Bucket index per (sorted) row -> (bucket start times, first row of each bucket)."""
    idx = np.floor((ts - start) / step).astype(np.int64)
    firsts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    return start + idx[firsts] * step, firsts


def _aggregate_raw(ts: np.ndarray, values: np.ndarray, start: float, step: float, agg: str):
    times, firsts = _group(ts, start, step)
    if agg == "avg":
        counts = np.diff(np.r_[firsts, len(values)])
        out = np.add.reduceat(values, firsts) / counts
    elif agg == "min":
        out = np.minimum.reduceat(values, firsts)
    elif agg == "max":
        out = np.maximum.reduceat(values, firsts)
    elif agg == "sum":
        out = np.add.reduceat(values, firsts)
    elif agg == "count":
        out = np.diff(np.r_[firsts, len(values)]).astype(float)
    elif agg == "last":
        out = values[np.r_[firsts[1:] - 1, len(values) - 1]]
    else:  # p95
        out = np.array([np.percentile(part, 95) for part in np.split(values, firsts[1:])])
    return times, out


def _aggregate_rollups(rows: np.ndarray, start: float, step: float, agg: str):
    """rows columns: ts, min, max, sum, count, last."""
    ts, mins, maxs, sums, counts, lasts = rows.T
    times, firsts = _group(ts, start, step)
    if agg == "avg":
        out = np.add.reduceat(sums, firsts) / np.add.reduceat(counts, firsts)
    elif agg == "min":
        out = np.minimum.reduceat(mins, firsts)
    elif agg == "max":
        out = np.maximum.reduceat(maxs, firsts)
    elif agg == "sum":
        out = np.add.reduceat(sums, firsts)
    elif agg == "count":
        out = np.add.reduceat(counts, firsts)
    elif agg == "last":
        out = lasts[np.r_[firsts[1:] - 1, len(lasts) - 1]]
    else:
        # Approximation: rollups keep no distribution, so p95 is taken over the
        # bucket averages (documented in docs/monitoring.md).
        means = sums / counts
        out = np.array([np.percentile(part, 95) for part in np.split(means, firsts[1:])])
    return times, out


def query_range(
    name: str,
    matchers: dict[str, str] | None,
    start: datetime | float,
    end: datetime | float,
    step: float | None = None,
    agg: str = "avg",
    *,
    with_meta: bool = False,
) -> list[dict] | tuple[list[dict], dict]:
    """Points per matching series: [{"labels": {...}, "points": [[ts, value], ...]}].

    ts is the start of each bucket (unix seconds). with_meta=True also returns
    {"step", "source", "thinned"} describing how the answer was made.
    """
    if agg not in AGGREGATIONS:
        raise QueryError(f"agg must be one of {', '.join(AGGREGATIONS)}; got {agg!r}.")
    start, end = to_unix(start), to_unix(end)
    if end <= start:
        raise QueryError("end must be after start.")
    if step is not None and step <= 0:
        raise QueryError("step must be a positive number of seconds.")
    chosen = plan(start, end, step)
    series = matching_series(name, matchers)
    if len(series) > conf.MAX_QUERY_SERIES:
        raise QueryError(
            f"{len(series)} series match {name!r}; narrow the labels (at most "
            f"{conf.MAX_QUERY_SERIES})."
        )
    by_id = {s.id: s for s in series}
    result: dict[int, list] = {}
    if chosen.resolution == 0:
        rows = (
            Sample.objects.filter(series_id__in=list(by_id), ts__gte=start, ts__lt=end)
            .order_by("series_id", "ts")
            .values_list("series_id", "ts", "value")
        )
        data = np.array(list(rows), dtype=float).reshape(-1, 3)
        data = data[~np.isnan(data[:, 2])]  # NaN / staleness markers from remote write
        for sid, part in _split_by_series(data):
            result[sid] = _aggregate_raw(part[:, 0], part[:, 1], start, chosen.step, agg)
    else:
        rows = (
            Rollup.objects.filter(
                resolution=chosen.resolution,
                series_id__in=list(by_id),
                ts__gte=start,
                ts__lt=end,
            )
            .order_by("series_id", "ts")
            .values_list("series_id", "ts", "min", "max", "sum", "count", "last")
        )
        data = np.array(list(rows), dtype=float).reshape(-1, 7)
        for sid, part in _split_by_series(data):
            result[sid] = _aggregate_rollups(part, start, chosen.step, agg)
    out = []
    for sid, (times, values) in result.items():
        if chosen.thin_to and len(times) > chosen.thin_to:
            times, values = lttb(times, values, chosen.thin_to)
        out.append(
            {
                "labels": by_id[sid].labels,
                "points": [[float(t), float(v)] for t, v in zip(times, values, strict=True)],
            }
        )
    out.sort(key=lambda s: sorted(s["labels"].items()))
    if with_meta:
        meta = {
            "step": chosen.step,
            "source": SOURCES[chosen.resolution],
            "thinned": bool(chosen.thin_to),
        }
        return out, meta
    return out


def _split_by_series(data: np.ndarray):
    if not len(data):
        return
    sids = data[:, 0]
    cuts = np.flatnonzero(sids[1:] != sids[:-1]) + 1
    for part in np.split(data, cuts):
        yield int(part[0, 0]), part[:, 1:]


def latest(name: str, matchers: dict[str, str] | None = None) -> list[dict]:
    """The newest raw sample of each matching series: [{"labels", "ts", "value"}]."""
    series = matching_series(name, matchers)
    newest = Sample.objects.filter(series=OuterRef("pk")).order_by("-ts")
    rows = (
        Series.objects.filter(id__in=[s.id for s in series])
        .annotate(
            last_ts=Subquery(newest.values("ts")[:1]),
            last_value=Subquery(newest.values("value")[:1]),
        )
        .values_list("labels", "last_ts", "last_value")
    )
    return [
        {"labels": labels, "ts": ts, "value": value} for labels, ts, value in rows if ts is not None
    ]


def last_seen(name: str) -> list[tuple[dict, float | None]]:
    """Every series of a metric with the time of its newest raw sample (None once its raw
    samples have expired): what the monitor itself has stored, whatever any cache says."""
    newest = Sample.objects.filter(series=OuterRef("pk")).order_by("-ts").values("ts")[:1]
    rows = Series.objects.filter(name=name).annotate(last_ts=Subquery(newest))
    return list(rows.values_list("labels", "last_ts"))


def known_metrics() -> list[str]:
    return list(Series.objects.order_by("name").values_list("name", flat=True).distinct())


def label_values(name: str) -> dict[str, list[str]]:
    """Each label key of a metric with its values (for pickers)."""
    found: dict[str, set[str]] = {}
    for labels in Series.objects.filter(name=name).values_list("labels", flat=True):
        for key, value in labels.items():
            found.setdefault(key, set()).add(value)
    return {key: sorted(values) for key, values in sorted(found.items())}
