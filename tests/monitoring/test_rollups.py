"""Rollups, retention and long-range queries (served from rollups, bounded, peaks kept)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from apps.monitoring import conf
from apps.monitoring.downsample import lttb
from apps.monitoring.ingest import ingest
from apps.monitoring.models import Rollup, Sample, Series
from apps.monitoring.query import plan, query_range
from apps.monitoring.rollups import apply_retention, rollup_all

pytestmark = pytest.mark.django_db(transaction=True)


def _hour_start(offset_hours: int) -> float:
    now = time.time()
    return now - now % 3600 - offset_hours * 3600


def test_minute_and_hour_rollups_hold_min_max_sum_count_last():
    base = _hour_start(3)
    # Two hours of one sample every 10 s: value = seconds since base.
    samples = [{"name": "lat", "value": float(i), "ts": base + i} for i in range(0, 7200, 10)]
    ingest(samples)
    rollup_all()
    first = Rollup.objects.get(resolution=60, ts=base)
    assert (first.min, first.max, first.sum, first.count, first.last) == (0, 50, 150, 6, 50)
    assert Rollup.objects.filter(resolution=60).count() == 120
    hour = Rollup.objects.get(resolution=3600, ts=base)
    assert (hour.min, hour.max, hour.count, hour.last) == (0, 3590, 360, 3590)
    assert hour.sum == sum(range(0, 3600, 10))
    # Running again (or on another worker) changes nothing.
    rollup_all()
    assert Rollup.objects.filter(resolution=60).count() == 120
    assert Rollup.objects.filter(resolution=3600).count() == 2


def test_a_sample_arriving_late_within_the_lookback_is_counted_on_the_next_run():
    now = time.time()
    base = now - now % 60 - 120  # a bucket already rolled up, inside ROLLUP_LOOKBACK
    ingest([{"name": "m", "value": 1.0, "ts": base + 5}])
    rollup_all()
    assert Rollup.objects.get(resolution=60, ts=base).count == 1
    ingest([{"name": "m", "value": 9.0, "ts": base + 30}])
    rollup_all(now=time.time() + 60)
    bucket = Rollup.objects.get(resolution=60, ts=base)
    assert (bucket.count, bucket.max, bucket.last) == (2, 9.0, 9.0)


def test_samples_backfilled_hours_late_reach_minute_and_hour_rollups():
    """A collector that was offline flushes its buffer: the rollups (and so every chart
    over more than 6 h) must count it, however far behind the lookback it lands."""
    rollup_all()  # the rollups are up to date before the backfill arrives
    base = _hour_start(5)
    ingest([{"name": "backfill", "value": float(i), "ts": base + i} for i in range(0, 3600, 60)])
    rollup_all()
    assert Rollup.objects.filter(resolution=60, series__name="backfill").count() == 60
    hour = Rollup.objects.get(resolution=3600, ts=base, series__name="backfill")
    assert (hour.count, hour.max) == (60, 3540.0)
    # The long-range query, as a 24 h chart asks it, now shows the backfilled hour.
    series = query_range("backfill", {}, base - 18 * 3600, base + 6 * 3600, agg="max")
    assert max(v for _, v in series[0]["points"]) == 3540.0


def test_long_ranges_come_from_rollups_with_few_points():
    base = _hour_start(20)
    samples = [{"name": "conn", "value": 10.0, "ts": base + i} for i in range(0, 20 * 3600, 30)]
    samples[1000]["value"] = 500.0  # one spike
    for i in range(0, len(samples), 10_000):
        ingest(samples[i : i + 10_000])
    rollup_all()
    series, meta = query_range("conn", {}, base, base + 20 * 3600, agg="max", with_meta=True)
    assert meta["source"] == "1m"
    points = series[0]["points"]
    assert len(points) <= conf.MAX_POINTS
    assert max(v for _, v in points) == 500.0
    avg = query_range("conn", {}, base, base + 20 * 3600, step=3600, agg="avg")
    assert len(avg[0]["points"]) == 20
    # The spike is at base + 30,000 s: hour 8, averaged with 119 other samples.
    hourly = [v for _, v in avg[0]["points"]]
    assert hourly[8] == pytest.approx(10.0 + 490.0 / 120)
    assert hourly[:8] == [10.0] * 8


def test_plan_picks_source_and_bounds_points():
    now = 1_800_000_000.0
    assert plan(now - 3600, now, None, now=now).resolution == 0
    assert plan(now - 86400, now, None, now=now).resolution == 60
    assert plan(now - 90 * 86400, now, None, now=now).resolution == 3600
    assert plan(now - 86400, now, 7200, now=now).resolution == 3600
    tiny = plan(now - 3600, now, 0.01, now=now)
    assert tiny.thin_to == conf.MAX_POINTS  # too many buckets asked for: thinned


def test_lttb_keeps_the_peak():
    x = np.arange(100_000, dtype=float)
    y = np.zeros_like(x)
    y[54_321] = 99.0
    tx, ty = lttb(x, y, 500)
    assert len(tx) == 500
    assert 99.0 in ty


def test_retention_deletes_each_tier_after_its_age():
    base = _hour_start(2)
    ingest([{"name": "m", "value": 1.0, "ts": base + i} for i in range(0, 3600, 60)])
    rollup_all()
    assert apply_retention()["raw"] == 0
    later = time.time() + conf.RAW_RETENTION + 10
    assert apply_retention(now=later)["raw"] == 60
    assert Sample.objects.count() == 0
    assert Rollup.objects.filter(resolution=60).count() == 60  # 1-minute data stays 30 days
    deleted = apply_retention(now=time.time() + conf.MINUTE_RETENTION + 10)
    assert deleted["1m"] == 60 and deleted["1h"] == 0
    last = apply_retention(now=time.time() + conf.HOUR_RETENTION + 10)
    assert last["1h"] == 1
    assert last["series"] == 1  # nothing left of it in any tier
    assert not Series.objects.exists()
