"""Warming: a real Celery worker loads the next 48 hours' bundles into Redis."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from apps.caching import bundles
from apps.caching.service import cache

pytestmark = pytest.mark.django_db(transaction=True)


def in_redis(key: str) -> bool:
    return bool(redis.Redis.from_url(settings.REDIS_URL).exists(cache.ns + "v:" + key))


def test_celery_task_warms_weddings_of_the_next_48_hours(calendar, celery_worker):
    from apps.caching.tasks import warm_upcoming_task
    from apps.weddings.models import Wedding

    live = calendar(starts_in=timedelta(hours=-1))
    soon = calendar(starts_in=timedelta(hours=30), suppliers=2)
    far = calendar(starts_in=timedelta(hours=60))
    cancelled = calendar(starts_in=timedelta(hours=5))
    Wedding.objects.filter(pk=cancelled.pk).update(status=Wedding.Status.CANCELLED)

    result = warm_upcoming_task.delay().get(timeout=30)
    assert result == {"weddings": 2, "warmed": 2, "hours": 48}
    assert in_redis(bundles.bundle_key(live.id)) and in_redis(bundles.bundle_key(soon.id))
    assert not in_redis(bundles.bundle_key(far.id))
    assert not in_redis(bundles.bundle_key(cancelled.id))
    for supplier in soon.suppliers.all():
        assert in_redis(bundles.supplier_key(supplier.id))
    # This process reads the warmed bundle from Redis without a database load.
    loads = cache.tiers["load"].hits
    assert bundles.wedding_bundle(soon.id)["id"] == soon.id
    assert cache.tiers["load"].hits == loads
    # Again: same answer (idempotent).
    assert warm_upcoming_task.delay().get(timeout=30) == result


def test_warm_cache_command_shows_progress_and_is_idempotent(calendar):
    first = calendar(starts_in=timedelta(hours=2))
    second = calendar(starts_in=timedelta(hours=20))
    out = io.StringIO()
    call_command("warm_cache", "--hours", "24", stdout=out)
    text = out.getvalue()
    assert "warming" in text and "2/2" in text
    assert "Warmed 2 of 2 weddings in the next 24 h." in text
    assert in_redis(bundles.bundle_key(first.id)) and in_redis(bundles.bundle_key(second.id))
    loads = cache.tiers["load"].hits
    call_command("warm_cache", "--hours", "24", stdout=io.StringIO())
    assert cache.tiers["load"].hits == loads  # nothing loaded twice


def test_warm_cache_refuses_a_bad_horizon():
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("warm_cache", "--hours", "0", stderr=err)
    assert "--hours must be positive" in err.getvalue()
