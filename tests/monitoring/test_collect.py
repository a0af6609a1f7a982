"""Built-in collection: what it samples, its schedule (5 s, 1 s on wedding days), one run
per interval across workers, and a broken app collector costing only its own samples."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings

from apps.monitoring import collect
from apps.monitoring.models import Series
from apps.monitoring.query import known_metrics, latest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_claim():
    for name in ("claim", "running"):
        redis.Redis.from_url(settings.REDIS_URL).delete(
            f"{settings.REDIS_PREFIX}:monitoring:collect:{name}"
        )
    yield


def _live_wedding():
    from apps.weddings.models import Region, Venue, Wedding

    region = Region.objects.create(code="uk-south", name="UK South", timezone="Europe/London")
    venue = Venue.objects.create(
        name="St Mary's", venue_type="church", region=region, timezone="Europe/London"
    )
    now = datetime.now(ZoneInfo("Europe/London"))
    start = (now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    end = now + timedelta(hours=3)
    return Wedding.objects.create(
        date=start.date(),
        ceremony_time=start.time(),
        reception_end_time=end.time().replace(second=0, microsecond=0),
        venue=venue,
        couple_name="Ada & Grace",
    )


def test_collect_all_samples_the_platform(celery_worker):
    _live_wedding()
    stored = collect.collect_all()
    assert stored >= 10
    names = set(known_metrics())
    for name in (
        "wedsync_db_up",
        "wedsync_db_latency_ms",
        "wedsync_db_connections",
        "wedsync_redis_up",
        "wedsync_redis_used_memory_bytes",
        "wedsync_redis_connected_clients",
        "wedsync_celery_workers",
        "wedsync_celery_queue_length",
        "wedsync_process_cpu_percent",
        "wedsync_process_rss_bytes",
        "wedsync_weddings_live",
    ):
        assert name in names, name
    assert latest("wedsync_db_up")[0]["value"] == 1.0
    assert latest("wedsync_celery_workers")[0]["value"] >= 1.0
    assert latest("wedsync_weddings_live", {"region": "uk-south"})[0]["value"] == 1.0
    assert latest("wedsync_process_rss_bytes")[0]["value"] > 10_000_000


@pytest.fixture
def instant_collection(monkeypatch):
    """The schedule under test, without the collectors' own time (slow on a busy machine)."""
    monkeypatch.setattr(collect, "collect_all", lambda now=None: 1)


def test_every_five_seconds_without_a_live_wedding(instant_collection):
    assert not collect.any_wedding_live()
    assert collect.collect_if_due() is not None
    assert collect.collect_if_due() is None  # same interval: skipped
    time.sleep(1.1)
    assert collect.collect_if_due() is None  # still inside the 5 s interval


def test_every_second_while_a_wedding_is_live(instant_collection):
    _live_wedding()
    assert collect.any_wedding_live()
    assert collect.collect_if_due() is not None
    assert collect.collect_if_due() is None
    time.sleep(1.05)
    assert collect.collect_if_due() is not None


def test_a_slow_collection_is_not_overlapped_by_the_next_tick(monkeypatch):
    import threading

    _live_wedding()  # 1 s interval
    started, release = threading.Event(), threading.Event()
    runs = []

    def slow(now=None):
        runs.append(1)
        started.set()
        release.wait(10)
        return 1

    monkeypatch.setattr(collect, "collect_all", slow)

    def tick_in_another_worker():
        from django.db import connection

        try:
            collect.collect_if_due()
        finally:
            connection.close()

    first = threading.Thread(target=tick_in_another_worker)
    first.start()
    assert started.wait(10)
    time.sleep(1.1)  # the next interval is due, but the first run has not finished
    assert collect.collect_if_due() is None
    release.set()
    first.join(10)
    time.sleep(1.0)
    assert collect.collect_if_due() == 1
    assert len(runs) == 2


def test_a_broken_app_collector_costs_only_its_samples(monkeypatch):
    def raises():
        raise RuntimeError("gateway away")

    def invalid():
        return [{"name": "wedsync_gateway_connections", "value": float("nan")}]

    def fine():
        return [{"name": "wedsync_cache_hit_ratio", "labels": {"tier": "l1"}, "value": 0.9}]

    monkeypatch.setattr(
        collect,
        "app_collectors",
        lambda: [("apps.realtime", raises), ("apps.caching", fine), ("apps.scaling", invalid)],
    )
    collect.collect_all()
    up = {s["labels"]["collector"]: s["value"] for s in latest("wedsync_collector_up")}
    assert up["apps.realtime"] == 0.0 and up["apps.scaling"] == 0.0
    assert up["apps.caching"] == 1.0 and up["builtin.database"] == 1.0
    assert latest("wedsync_cache_hit_ratio")[0]["value"] == 0.9
    assert not Series.objects.filter(name="wedsync_gateway_connections").exists()


def test_the_task_runs_on_a_real_worker(celery_worker):
    from apps.monitoring.tasks import collect_task

    assert collect_task.delay().get(timeout=30) > 0
    [rss] = latest("wedsync_process_rss_bytes", {"process": "worker"})
    assert rss["value"] > 0
