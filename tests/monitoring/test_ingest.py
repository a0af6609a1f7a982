"""Ingest: atomic batches, clear errors by index, COPY into PostgreSQL, the signal."""

from __future__ import annotations

import math
import time

import pytest

from apps.monitoring import conf
from apps.monitoring.ingest import IngestError, ingest
from apps.monitoring.models import Sample, Series
from apps.monitoring.query import known_metrics, latest, query_range

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_is_stored_and_announced_after_commit(heard):
    now = time.time()
    samples = [
        {"name": "wedsync_db_latency_ms", "labels": {"db": "main"}, "value": 1.5, "ts": now - 2},
        {"name": "wedsync_db_latency_ms", "labels": {"db": "main"}, "value": 2.5, "ts": now - 1},
        {"name": "wedsync_redis_up", "value": 1},
    ]
    assert ingest(samples) == 3
    assert Series.objects.count() == 2
    assert Sample.objects.count() == 3
    assert len(heard) == 1
    names = [s[0] for s in heard[0]]
    assert names == ["wedsync_db_latency_ms", "wedsync_db_latency_ms", "wedsync_redis_up"]
    assert heard[0][0] == ("wedsync_db_latency_ms", {"db": "main"}, now - 2, 1.5)
    newest = latest("wedsync_db_latency_ms", {"db": "main"})
    assert newest == [{"labels": {"db": "main"}, "ts": now - 1, "value": 2.5}]
    assert known_metrics() == ["wedsync_db_latency_ms", "wedsync_redis_up"]


def test_labels_in_any_order_are_the_same_series():
    ingest([{"name": "m", "labels": {"a": "1", "b": "2"}, "value": 1}])
    ingest([{"name": "m", "labels": {"b": "2", "a": "1"}, "value": 2}])
    assert Series.objects.count() == 1


def test_one_bad_sample_refuses_the_batch_naming_each_by_index(heard):
    now = time.time()
    samples = [
        {"name": "ok_metric", "value": 1},
        {"value": 1},  # no name
        {"name": "ok_metric", "value": "high"},
        {"name": "ok_metric", "value": math.inf},
        {"name": "ok_metric", "labels": {"bad-name": "x"}, "value": 1},
        {"name": "ok_metric", "value": 1, "ts": now + 3600},
        {"name": "9starts_with_digit", "value": 1},
        "not an object",
        {"name": "ok_metric", "value": True},
    ]
    with pytest.raises(IngestError) as caught:
        ingest(samples, now=now)
    error = caught.value
    assert error.status == 400
    by_index = {e["index"]: e for e in error.errors}
    assert sorted(by_index) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert by_index[1]["field"] == "name"
    assert by_index[2]["field"] == "value" and "number" in by_index[2]["message"]
    assert "finite" in by_index[3]["message"]
    assert by_index[4]["field"] == "labels.bad-name"
    assert by_index[5]["field"] == "ts" and "future" in by_index[5]["message"]
    assert "8 of 9" in error.message
    assert Sample.objects.count() == 0 and Series.objects.count() == 0
    assert heard == []


def test_a_retried_batch_overwrites_instead_of_failing():
    ts = time.time() - 10
    ingest([{"name": "m", "value": 1, "ts": ts}, {"name": "m", "value": 2, "ts": ts + 1}])
    # The same timestamps again (a client retrying after a timeout), plus a new one.
    ingest([{"name": "m", "value": 5, "ts": ts}, {"name": "m", "value": 6, "ts": ts + 2}])
    values = dict(Sample.objects.values_list("ts", "value"))
    assert values == {ts: 5.0, ts + 1: 2.0, ts + 2: 6.0}


def test_the_same_series_and_time_twice_in_one_batch_keeps_the_last():
    ts = time.time() - 5
    ingest([{"name": "m", "value": 1, "ts": ts}, {"name": "m", "value": 9, "ts": ts}])
    assert list(Sample.objects.values_list("value", flat=True)) == [9.0]


def test_limits_label_count_and_length(monkeypatch):
    monkeypatch.setattr(conf, "MAX_LABELS", 3)
    labels = {f"l{i}": "v" for i in range(4)}
    with pytest.raises(IngestError) as caught:
        ingest([{"name": "m", "labels": labels, "value": 1}])
    assert "at most 3" in caught.value.errors[0]["message"]
    with pytest.raises(IngestError) as caught:
        ingest([{"name": "m", "labels": {"a": "x" * 5000}, "value": 1}])
    assert caught.value.errors[0]["field"] == "labels.a"


def test_batch_size_limit_is_413(monkeypatch):
    monkeypatch.setattr(conf, "MAX_SAMPLES_PER_BATCH", 10)
    with pytest.raises(IngestError) as caught:
        ingest([{"name": "m", "value": i} for i in range(11)])
    assert caught.value.status == 413
    assert "limit is 10" in caught.value.message


def test_cardinality_guard_names_the_metric_and_stores_nothing(monkeypatch):
    monkeypatch.setattr(conf, "MAX_SERIES_PER_METRIC", 5)
    ingest([{"name": "per_user", "labels": {"user": str(i)}, "value": 1} for i in range(4)])
    with pytest.raises(IngestError) as caught:
        ingest(
            [{"name": "fine", "value": 1}]
            + [{"name": "per_user", "labels": {"user": str(i)}, "value": 1} for i in range(4, 8)]
        )
    assert caught.value.status == 429
    assert "'per_user'" in caught.value.message
    assert not Series.objects.filter(name="fine").exists()
    assert Series.objects.filter(name="per_user").count() == 4


def test_series_gone_quiet_stop_counting_against_the_guard(monkeypatch):
    from apps.monitoring.models import Series

    monkeypatch.setattr(conf, "MAX_SERIES_PER_METRIC", 3)
    old = time.time() - conf.RAW_RETENTION + 30
    ingest([{"name": "pods", "labels": {"pod": f"p{i}"}, "value": 1, "ts": old} for i in range(3)])
    with pytest.raises(IngestError):
        ingest([{"name": "pods", "labels": {"pod": "p3"}, "value": 1}])
    # Once the old pods' raw samples are past retention, new pods are welcome.
    later = time.time() + 60
    assert ingest([{"name": "pods", "labels": {"pod": "p3"}, "value": 1}], now=later) == 1
    assert Series.objects.filter(name="pods").count() == 4


def test_query_range_steps_and_aggregates():
    base = time.time() - 600
    base -= base % 60
    samples = [
        {"name": "lat", "labels": {"q": "a"}, "value": float(i), "ts": base + i} for i in range(120)
    ] + [{"name": "lat", "labels": {"q": "b"}, "value": 100.0, "ts": base + i} for i in range(60)]
    ingest(samples)
    avg = query_range("lat", {"q": "a"}, base, base + 120, step=60)
    assert avg == [{"labels": {"q": "a"}, "points": [[base, 29.5], [base + 60, 89.5]]}]
    mx = query_range("lat", {"q": "a"}, base, base + 120, step=60, agg="max")
    assert [p[1] for p in mx[0]["points"]] == [59.0, 119.0]
    count = query_range("lat", {}, base, base + 120, step=60, agg="count")
    assert [(s["labels"]["q"], [p[1] for p in s["points"]]) for s in count] == [
        ("a", [60.0, 60.0]),
        ("b", [60.0]),
    ]
    p95 = query_range("lat", {"q": "a"}, base, base + 60, step=60, agg="p95")
    assert p95[0]["points"][0][1] == pytest.approx(56.05)
    last = query_range("lat", {"q": "a"}, base, base + 120, step=60, agg="last")
    assert [p[1] for p in last[0]["points"]] == [59.0, 119.0]


def test_odd_shapes_are_named_not_crashed_on():
    now = time.time()
    samples = [
        {"name": "m", "labels": ["a", "b"], "value": 1},  # labels not an object
        {"name": "m", "labels": {"a": 1}, "value": 1},  # label value not a string
        {"name": "m", "labels": {"__name__": "x"}, "value": 1},  # reserved
        {"name": "m", "value": 1, "ts": None},  # null ts: now
        {"name": "m", "value": 1, "ts": "yesterday"},
        {"name": "m", "value": 1, "ts": now - conf.RAW_RETENTION - 60},  # too old to keep
        {"name": "m" * 300, "value": 1},
    ]
    with pytest.raises(IngestError) as caught:
        ingest(samples, now=now)
    fields = {(e["index"], e["field"]) for e in caught.value.errors}
    assert fields == {
        (0, "labels"),
        (1, "labels.a"),
        (2, "labels.__name__"),
        (4, "ts"),
        (5, "ts"),
        (6, "name"),
    }


def test_the_demo_seed_is_idempotent():
    import io

    from apps.accounts.seeding import SeedContext
    from apps.monitoring import demo
    from apps.monitoring.models import ScrapeTarget

    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    first = Sample.objects.count()
    assert first >= 10 * demo.HOURS * 3600 // demo.EVERY
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    assert Sample.objects.count() == first
    assert ScrapeTarget.objects.count() == 1
    assert len(query_range("wedsync_db_latency_ms", {}, time.time() - 7200, time.time())) == 1


def test_a_retried_batch_inside_an_outer_transaction_keeps_the_outer_work():
    from django.db import transaction

    ts = time.time() - 10
    ingest([{"name": "m", "value": 1, "ts": ts}])
    with transaction.atomic():
        ingest([{"name": "other", "value": 3, "ts": ts}])
        ingest([{"name": "m", "value": 2, "ts": ts}])  # conflicts: savepoint, then upsert
    assert dict(Sample.objects.values_list("series__name", "value")) == {"m": 2.0, "other": 3.0}


def test_a_failing_listener_does_not_undo_or_fail_the_batch(heard):
    from apps.monitoring.signals import samples_ingested

    def broken(sender, samples, **kwargs):
        raise RuntimeError("listener bug")

    samples_ingested.connect(broken, weak=False)
    try:
        assert ingest([{"name": "m", "value": 1}]) == 1
    finally:
        samples_ingested.disconnect(broken)
    assert Sample.objects.count() == 1
    assert len(heard) == 1  # the other listeners still heard of it
