"""Samples for PromQL selectors: raw samples (bit for bit, staleness markers included),
or minute/hour rollups' last values for ranges behind the raw retention."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
from django.db import connection

from apps.monitoring import conf
from apps.monitoring.models import Rollup, Sample, Series

STALE_BITS = np.uint64(0x7FF0000000000002)


@dataclass
class Stored:
    labels: dict[str, str]  # including __name__
    ts: np.ndarray  # int64 milliseconds, sorted
    values: np.ndarray  # float64
    stale: np.ndarray  # bool: a staleness marker


def _matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        have = labels.get(name, "")
        if op == "=" and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if op == "=~" and not re.fullmatch(value, have):
            return False
        if op == "!~" and re.fullmatch(value, have):
            return False
    return True


def select_series(name: str | None, matchers: list[tuple[str, str, str]]) -> list[Series]:
    """Series whose labels (with __name__) satisfy every matcher; at most MAX_QUERY_SERIES."""
    from apps.monitoring.promql.engine import PromQLError

    rows = Series.objects.all() if name is None else Series.objects.filter(name=name)
    exact = [v for n, op, v in matchers if n == "__name__" and op == "="]
    if exact:
        rows = rows.filter(name=exact[0])
    found = []
    for series in rows.only("id", "name", "labels").iterator():
        labels = {**series.labels, "__name__": series.name}
        if _matches(labels, matchers):
            series.labels = labels
            found.append(series)
            if len(found) > conf.MAX_PROMQL_SERIES:
                raise PromQLError(
                    f"more than {conf.MAX_PROMQL_SERIES} series match one selector; "
                    "narrow its label matchers",
                    kind="execution",
                )
    return found


def _raw_rows(ids: list[int], lo: float, hi: float) -> np.ndarray:
    """(series_id, ts, value) rows as an (n, 3) float array, sorted by series and time."""
    if connection.vendor != "postgresql":
        rows = list(
            Sample.objects.filter(series_id__in=ids, ts__gte=lo, ts__lte=hi)
            .order_by("series_id", "ts")
            .values_list("series_id", "ts", "value")
        )
        return np.array(rows, dtype=np.float64).reshape(-1, 3)
    import psycopg

    # One row per series with its times and values as binary float8 arrays (array_send):
    # no Python object per sample, and a NaN keeps its payload (the staleness marker is
    # one NaN among many). ~10x faster than a row per sample.
    sql = (
        "SELECT series_id, array_send(array_agg(ts ORDER BY ts)), "
        "array_send(array_agg(value ORDER BY ts)) FROM monitoring_sample "
        "WHERE series_id = ANY(%s) AND ts >= %s AND ts <= %s GROUP BY series_id ORDER BY series_id"
    )
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [ids, lo, hi], binary=True)
        rows = cursor.fetchall()
    parts = []
    for sid, ts, values in rows:
        ts, values = _float8_array(ts), _float8_array(values)
        parts.append(np.column_stack((np.full(len(ts), float(sid)), ts, values)))
    return np.concatenate(parts) if parts else np.empty((0, 3))


_ELEMENT = np.dtype([("length", ">i4"), ("value", ">f8")])


def _float8_array(raw: bytes) -> np.ndarray:
    """PostgreSQL's binary array format, one dimension of float8 without NULLs."""
    if int.from_bytes(raw[0:4], "big") == 0:  # an empty array has no dimensions
        return np.empty(0)
    return np.frombuffer(raw, dtype=_ELEMENT, offset=20)["value"].astype(np.float64)


def _rollup_rows(ids: list[int], resolution: int, lo: float, hi: float) -> list[tuple]:
    rows = (
        Rollup.objects.filter(
            resolution=resolution, series_id__in=ids, ts__gte=lo - resolution, ts__lte=hi
        )
        .order_by("series_id", "ts")
        .values_list("series_id", "ts", "last")
    )
    # A bucket's last value stands at the bucket's end, as its final raw sample did.
    return [(sid, ts + resolution - 0.001, v) for sid, ts, v in rows]


def load(series: list[Series], lo_ms: int, hi_ms: int, now: float | None = None) -> list[Stored]:
    """Samples with lo_ms <= ts <= hi_ms for each series (series with none are kept, empty)."""
    now = time.time() if now is None else now
    ids = [s.id for s in series]
    lo, hi = lo_ms / 1000.0, hi_ms / 1000.0
    if not ids:
        data = np.empty((0, 3))
    elif lo >= now - conf.RAW_RETENTION:
        data = _raw_rows(ids, lo, hi)
    else:
        resolution = Rollup.MINUTE if lo >= now - conf.MINUTE_RETENTION else Rollup.HOUR
        rows = _rollup_rows(ids, resolution, lo, hi)
        data = np.array(rows, dtype=np.float64).reshape(-1, 3)
    out = []
    sids = data[:, 0].astype(np.int64)
    for s in series:
        lo_i, hi_i = np.searchsorted(sids, [s.id, s.id + 1])
        part = data[lo_i:hi_i]
        values = np.ascontiguousarray(part[:, 2])
        out.append(
            Stored(
                labels=s.labels,
                ts=np.rint(part[:, 1] * 1000).astype(np.int64),
                values=values,
                stale=values.view(np.uint64) == STALE_BITS,
            )
        )
    return out
