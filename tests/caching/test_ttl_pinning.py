"""Dynamic TTL and pinning, with an injected clock (real Redis, one process)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from django.conf import settings

from apps.caching import conf, pinning
from apps.caching.service import TwoTierCache


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_cache(clock, l2: bool = True) -> TwoTierCache:
    """With l2=False the injected clock governs every expiry (Redis keeps real time)."""
    config = replace(conf.load(), default_ttl=10.0, ttl_cap=60.0)
    return TwoTierCache(
        redis_url=settings.REDIS_URL if l2 else "",
        prefix=f"{settings.REDIS_PREFIX}-ttl-{uuid.uuid4().hex[:6]}",
        config=config,
        clock=clock,
        pin_resolver=pinning.live_pin_until,
    )


def counting_loader(counts: dict, key: str):
    def load():
        counts[key] = counts.get(key, 0) + 1
        return f"{key}#{counts[key]}"

    return load


def test_cold_key_expires_after_the_base_ttl_and_hot_key_lives_longer():
    clock = Clock()
    cache = make_cache(clock, l2=False)
    counts: dict = {}
    # "hot" is read 30 times before it is stored; "cold" is read once.
    for _ in range(30):
        cache.l1.get("hot")
    assert cache.get_or_load("cold", counting_loader(counts, "cold")) == "cold#1"
    assert cache.get_or_load("hot", counting_loader(counts, "hot")) == "hot#1"
    clock.now += 9
    assert cache.get_or_load("cold", counting_loader(counts, "cold")) == "cold#1"
    clock.now += 2  # 11 s: past the base TTL of 10 s
    assert cache.get_or_load("cold", counting_loader(counts, "cold")) == "cold#2"
    assert cache.get_or_load("hot", counting_loader(counts, "hot")) == "hot#1"  # still fresh
    entry = cache.l1.peek("hot")
    assert entry.expires - (clock.now - 11) == pytest.approx(60.0)  # stretched up to the cap
    clock.now += 50  # 61 s: past the cap
    assert cache.get_or_load("hot", counting_loader(counts, "hot")) == "hot#2"


def test_explicit_ttl_is_the_base_and_l2_carries_it():
    clock = Clock()
    cache = make_cache(clock)
    counts: dict = {}
    cache.get_or_load("k", counting_loader(counts, "k"), ttl=1)
    ttl_ms = redis.Redis.from_url(settings.REDIS_URL).pttl(cache.ns + "v:k")
    assert 500 < ttl_ms <= 1_000  # read once: the base TTL
    clock.now += 2  # expired in L1; Redis (real time) still holds it
    assert cache.get_or_load("k", counting_loader(counts, "k")) == "k#1"
    assert cache.stats()["tiers"]["l2"]["hits"] == 1
    time.sleep(1.1)
    clock.now += 2
    assert cache.get_or_load("k", counting_loader(counts, "k")) == "k#2"


@pytest.mark.django_db
def test_keys_of_a_live_wedding_are_pinned_until_it_ends(calendar):
    live = calendar(starts_in=timedelta(minutes=-30))
    later = calendar(starts_in=timedelta(days=3))
    pinning.forget()
    clock = Clock()
    clock.now = time.time()
    cache = make_cache(clock)
    counts: dict = {}
    cache.get_or_load("live", counting_loader(counts, "live"), tags=[f"wedding:{live.id}"])
    cache.get_or_load("later", counting_loader(counts, "later"), tags=[f"wedding:{later.id}"])
    end_of_live_window = live.ends_at.timestamp() + settings.WEDSYNC["LIVE_TAIL_MINUTES"] * 60
    assert cache.l1.peek("live").expires == pytest.approx(end_of_live_window, abs=1)
    assert cache.l1.peek("live").segment == 3  # pinned: outside the LRU order
    clock.now += 3 * 3600  # hours later, still during the wedding day
    assert cache.get_or_load("live", counting_loader(counts, "live")) == "live#1"
    # The other wedding's key expired from L1 (Redis keeps real time, so it is not
    # reloaded from the database here: L2 still holds it).
    assert cache.peek("later") is None and cache.peek("live") == "live#1"
    ttl_ms = redis.Redis.from_url(settings.REDIS_URL).pttl(cache.ns + "v:live")
    assert ttl_ms > 5 * 3600 * 1000  # Redis keeps it as long


def test_without_redis_one_thread_loads_a_key_and_the_others_wait():
    import threading

    cache = TwoTierCache(redis_url="", prefix="embedded")  # the embedded default: L1 only
    calls = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.3)
        return "loaded"

    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load("k", slow)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["loaded"] * 8
    assert len(calls) == 1
    assert cache.stats()["stampede"]["lock_waits"] == 7


def test_without_redis_concurrent_get_many_load_each_key_once():
    import threading

    cache = TwoTierCache(redis_url="", prefix="embedded")
    keys = [f"k{i}" for i in range(11)]
    loads: dict[str, int] = {}
    guard = threading.Lock()

    def slow_many(missing: list[str]) -> dict:
        with guard:
            for key in missing:
                loads[key] = loads.get(key, 0) + 1
        time.sleep(0.2)
        return {key: f"{key}-value" for key in missing}

    results: list = [None] * 8

    def read(i: int) -> None:  # overlapping sets: keys i..i+3
        results[i] = cache.get_many(keys[i : i + 4], slow_many)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == dict.fromkeys(keys, 1)
    for i, got in enumerate(results):
        assert got == {key: f"{key}-value" for key in keys[i : i + 4]}
