"""Rollups (raw -> 1 minute -> 1 hour) and retention, as idempotent SQL.

Each run recomputes whole buckets from its source with an upsert, starting a
little before where the last run stopped (conf.ROLLUP_LOOKBACK), so a late sample
or two workers running it at once only rewrite the same rows with the same values.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Q

from apps.monitoring import conf
from apps.monitoring.models import Rollup, RollupState

# At most this much source time per statement, so a first run over 48 h of raw
# samples is a series of bounded statements rather than one huge one.
CHUNK_SECONDS = {Rollup.MINUTE: 3 * 3600, Rollup.HOUR: 7 * 86400}


def _bucket_expr(resolution: int) -> str:
    # ts is positive, so truncation is floor; SQLite has no floor() without its math extension.
    if connection.vendor == "postgresql":
        return f"floor(ts / {resolution}) * {resolution}"
    return f"CAST(ts / {resolution} AS INTEGER) * {resolution}"


def _measured() -> str:
    # Remote write stores NaN and staleness markers (PostgreSQL only); they are no
    # measurement for min/max/sum. PostgreSQL's NaN equals NaN, so test with <>.
    return "AND value <> 'NaN'::float8" if connection.vendor == "postgresql" else ""


def _upsert_sql(resolution: int) -> str:
    measured = _measured()
    bucket = _bucket_expr(resolution)
    if resolution == Rollup.MINUTE:
        inner = (
            f"SELECT series_id, {bucket} AS bucket, min(value) AS mn, max(value) AS mx, "
            f"sum(value) AS sm, count(*) AS cnt FROM monitoring_sample "
            f"WHERE ts >= %s AND ts < %s {measured} GROUP BY series_id, {bucket}"
        )
        last = (
            "SELECT s.value FROM monitoring_sample s WHERE s.series_id = g.series_id "
            f"AND s.ts >= g.bucket AND s.ts < g.bucket + {resolution} "
            f"{measured.replace('value', 's.value')} ORDER BY s.ts DESC LIMIT 1"
        )
    else:
        inner = (
            f'SELECT series_id, {bucket} AS bucket, min("min") AS mn, max("max") AS mx, '
            f'sum("sum") AS sm, sum("count") AS cnt FROM monitoring_rollup '
            f"WHERE resolution = {Rollup.MINUTE} AND ts >= %s AND ts < %s "
            f"GROUP BY series_id, {bucket}"
        )
        last = (
            'SELECT r."last" FROM monitoring_rollup r WHERE r.resolution = '
            f"{Rollup.MINUTE} AND r.series_id = g.series_id AND r.ts >= g.bucket "
            f"AND r.ts < g.bucket + {resolution} ORDER BY r.ts DESC LIMIT 1"
        )
    # "WHERE true": SQLite needs it to parse INSERT ... SELECT ... ON CONFLICT.
    return (
        'INSERT INTO monitoring_rollup (resolution, series_id, ts, "min", "max", "sum", '
        '"count", "last") '
        f"SELECT {resolution}, g.series_id, g.bucket, g.mn, g.mx, g.sm, g.cnt, ({last}) "
        f"FROM ({inner}) g WHERE true "
        "ON CONFLICT (resolution, series_id, ts) DO UPDATE SET "
        '"min" = excluded."min", "max" = excluded."max", "sum" = excluded."sum", '
        '"count" = excluded."count", "last" = excluded."last"'
    )


def _source_bounds(resolution: int, now: float) -> tuple[float, float]:
    """Where this resolution's source data starts and up to where it is complete."""
    if resolution == Rollup.MINUTE:
        oldest = now - conf.RAW_RETENTION
        complete = now
    else:
        oldest = now - conf.MINUTE_RETENTION
        minute = RollupState.objects.filter(resolution=Rollup.MINUTE).first()
        complete = minute.done_until if minute else 0.0
    return oldest, complete


def note_late_samples(earliest: float) -> None:
    """Ingest wrote samples from `earliest` on, behind what rollups may look back at: the
    next minute rollup starts there. Called after commit; one statement, which matches
    no row once an earlier or equal point is already noted. (Before the first rollup run
    there is no row, and that run starts at the oldest raw sample anyway.)"""
    _lower_late_from(Rollup.MINUTE, earliest)


def _lower_late_from(resolution: int, earliest: float) -> None:
    RollupState.objects.filter(resolution=resolution).filter(
        Q(late_from__isnull=True) | Q(late_from__gt=earliest)
    ).update(late_from=earliest)


def rollup(resolution: int, now: float | None = None) -> int:
    """Roll complete buckets of `resolution` up to now; returns rows written."""
    now = time.time() if now is None else now
    oldest, complete = _source_bounds(resolution, now)
    end = math.floor(complete / resolution) * resolution  # the current bucket is still filling
    state, _ = RollupState.objects.get_or_create(resolution=resolution)
    lookback = conf.ROLLUP_LOOKBACK if resolution == Rollup.MINUTE else Rollup.HOUR
    start = max(state.done_until - lookback, oldest)
    late = state.late_from
    if late is not None:
        # Taken before the work: a late batch committed from now on notes itself again
        # (re-done next run); one committed before is visible to the statements below.
        RollupState.objects.filter(resolution=resolution, late_from=late).update(late_from=None)
        start = max(min(start, late), oldest)
    start = math.floor(start / resolution) * resolution
    written = 0
    sql = _upsert_sql(resolution)
    try:
        while start < end:
            stop = min(end, start + CHUNK_SECONDS[resolution])
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [start, stop])
                written += max(cursor.rowcount, 0)
            start = stop
    except Exception:
        if late is not None:  # not done: the next run starts from the late point again
            _lower_late_from(resolution, late)
        raise
    if late is not None and resolution == Rollup.MINUTE:
        # Rewritten minutes behind the hour rollup's own lookback: it must redo them too.
        RollupState.objects.get_or_create(resolution=Rollup.HOUR)
        _lower_late_from(Rollup.HOUR, late)
    if end > state.done_until:
        RollupState.objects.filter(resolution=resolution, done_until__lt=end).update(done_until=end)
    return written


def rollup_all(now: float | None = None) -> dict[str, int]:
    now = time.time() if now is None else now
    return {
        "1m": rollup(Rollup.MINUTE, now),
        "1h": rollup(Rollup.HOUR, now),
    }


def apply_retention(now: float | None = None) -> dict[str, int]:
    """Delete what is older than each tier keeps; returns rows deleted per tier."""
    now = time.time() if now is None else now
    deleted = {}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM monitoring_sample WHERE ts < %s", [now - conf.RAW_RETENTION])
        deleted["raw"] = cursor.rowcount
        for label, resolution, keep in (
            ("1m", Rollup.MINUTE, conf.MINUTE_RETENTION),
            ("1h", Rollup.HOUR, conf.HOUR_RETENTION),
        ):
            cursor.execute(
                "DELETE FROM monitoring_rollup WHERE resolution = %s AND ts < %s",
                [resolution, now - keep],
            )
            deleted[label] = cursor.rowcount
        # Series with nothing left in any tier (quiet for the whole hourly retention).
        cursor.execute(
            # No alias on the DELETE target: SQLite (the embedded default) refuses it.
            "DELETE FROM monitoring_series WHERE created_at < %s "
            "AND NOT EXISTS (SELECT 1 FROM monitoring_sample m "
            "WHERE m.series_id = monitoring_series.id) "
            "AND NOT EXISTS (SELECT 1 FROM monitoring_rollup r "
            "WHERE r.series_id = monitoring_series.id)",
            [datetime.fromtimestamp(now - conf.HOUR_RETENTION, tz=UTC)],
        )
        deleted["series"] = cursor.rowcount
    return deleted
