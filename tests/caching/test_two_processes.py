"""Two processes sharing Redis: invalidation after writes, and one loader per key."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.db import transaction

from apps.caching import bundles
from apps.caching.service import cache

pytestmark = pytest.mark.django_db(transaction=True)


def test_wedding_write_invalidates_the_other_process_within_100ms(calendar, start_child):
    wedding = calendar(name="Ada & Grace")
    child = start_child()
    assert child.call("start") is True
    assert child.call("bundle", id=wedding.id) == "Ada & Grace"
    key = bundles.bundle_key(wedding.id)
    assert child.call("peek", key=key) is True
    # This process has it too (from L2, which the child filled).
    assert bundles.wedding_bundle(wedding.id)["couple_name"] == "Ada & Grace"

    delays = []
    for i in range(5):
        wedding.couple_name = f"Ada & Grace {i}"
        with transaction.atomic():
            wedding.save()
            committed = time.time()
        dropped_at = child.call("wait_dropped", name=f"tag:wedding:{wedding.id}", timeout=2)
        assert dropped_at is not None, "the child never saw the invalidation"
        delays.append(dropped_at - committed)
        assert child.call("peek", key=key) is False
        assert child.call("bundle", id=wedding.id) == f"Ada & Grace {i}"
        assert bundles.wedding_bundle(wedding.id)["couple_name"] == f"Ada & Grace {i}"
    assert max(delays) < 0.1, delays


def test_supplier_links_and_venue_writes_reach_the_other_process(calendar, start_child):
    from apps.weddings.models import Supplier

    wedding = calendar(suppliers=1)
    other = calendar(suppliers=0)
    supplier = wedding.suppliers.get()
    child = start_child()
    child.call("start")
    assert child.call("supplier_weddings", id=supplier.id) == [wedding.id]

    other.suppliers.add(supplier)  # m2m add from the wedding side
    child.call("wait_dropped", name=f"tag:supplier:{supplier.id}")
    assert child.call("supplier_weddings", id=supplier.id) == sorted([wedding.id, other.id])

    supplier.weddings.remove(wedding)  # and removal from the supplier side
    child.call("wait_dropped", name=f"tag:supplier:{supplier.id}")
    assert child.call("supplier_weddings", id=supplier.id) == [other.id]

    # A venue edit reaches the bundles of its weddings.
    assert child.call("bundle", id=other.id)
    venue = other.venue
    venue.degraded = True
    venue.save()
    child.call("wait_dropped", name=f"tag:wedding:{other.id}")
    assert bundles.wedding_bundle(other.id)["venue"]["degraded"] is True

    # Deleting the supplier empties its map, and its wedding's bundle forgets it.
    assert [s["id"] for s in bundles.wedding_bundle(other.id)["suppliers"]] == [supplier.id]
    Supplier.objects.filter(pk=supplier.pk).delete()
    child.call("wait_dropped", name=f"tag:supplier:{supplier.id}")
    assert child.call("supplier_weddings", id=supplier.id) == []
    assert bundles.wedding_bundle(other.id)["suppliers"] == []


def test_a_region_edit_reaches_the_bundles_of_its_weddings_in_the_other_process(
    calendar, start_child
):
    from apps.weddings.models import Region, Venue, Wedding

    wedding = calendar()
    elsewhere = calendar()
    other_region = Region.objects.create(code="ie-west", name="IE West", timezone="UTC")
    Venue.objects.filter(pk=elsewhere.venue_id).update(region=other_region)
    child = start_child()
    child.call("start")
    assert child.call("bundle", id=wedding.id)
    assert child.call("bundle", id=elsewhere.id)
    assert bundles.wedding_bundle(wedding.id)["venue"]["region"] == "uk-south"

    region = Region.objects.get(code="uk-south")
    region.code = "uk-south-east"
    with transaction.atomic():
        region.save()
        # Not before the commit: another reader could reload the old row meanwhile.
        assert child.call("peek", key=bundles.bundle_key(wedding.id)) is True
        committed = time.time()
    dropped_at = child.call("wait_dropped", name=f"tag:wedding:{wedding.id}", timeout=2)
    assert dropped_at is not None, "the child never saw the invalidation"
    assert dropped_at - committed < 0.1
    assert child.call("peek", key=bundles.bundle_key(wedding.id)) is False
    assert bundles.wedding_bundle(wedding.id)["venue"]["region"] == "uk-south-east"
    # The wedding of the other region keeps its cached bundle.
    assert child.call("peek", key=bundles.bundle_key(elsewhere.id)) is True
    assert Wedding.objects.filter(venue__region=region).count() == 1


def test_a_rolled_back_write_invalidates_nothing(calendar):
    wedding = calendar(name="Kept")
    assert bundles.wedding_bundle(wedding.id)["couple_name"] == "Kept"
    sent = cache.counters["invalidations_sent"]
    with pytest.raises(RuntimeError), transaction.atomic():
        wedding.couple_name = "Never"
        wedding.save()
        raise RuntimeError("rollback")
    assert cache.counters["invalidations_sent"] == sent
    assert bundles.wedding_bundle(wedding.id)["couple_name"] == "Kept"


def test_one_loader_per_key_across_processes(start_child):
    child = start_child()
    child.call("start")
    key = f"stampede-{uuid.uuid4().hex[:8]}"
    counter = f"{settings.REDIS_PREFIX}:test:{key}:loads"
    r = redis.Redis.from_url(settings.REDIS_URL)
    results: dict = {}

    def child_load() -> None:
        results["child"] = child.call("slow_load", key=key, sleep=0.6, counter=counter)

    thread = threading.Thread(target=child_load)
    thread.start()
    deadline = time.time() + 5
    while r.get(counter) is None and time.time() < deadline:  # the child is loading
        time.sleep(0.005)

    def local_loader() -> str:
        r.incr(counter)
        return f"{key}-loaded-here"

    started = time.time()
    here = [None] * 4

    def local(i: int) -> None:
        here[i] = cache.get_or_load(key, local_loader)

    threads = [threading.Thread(target=local, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    thread.join()
    waited = time.time() - started
    assert int(r.get(counter)) == 1, "the key was loaded more than once"
    assert results["child"].endswith("-loaded-by-" + str(child.proc.pid))
    assert here == [results["child"]] * 4  # everyone got the one loaded value
    assert 0.2 < waited < 2.0  # they waited for it, briefly
    assert cache.counters["lock_waits"] >= 1


def _one_second_cache():
    """A cache of this process whose entries live 1 s on a clock the test moves:
    (cache, [now])."""
    from dataclasses import replace

    from apps.caching.service import TwoTierCache

    clock_now = [time.time()]
    local = TwoTierCache(
        redis_url=settings.REDIS_URL,
        prefix=settings.REDIS_PREFIX,
        config=replace(cache.config, default_ttl=1.0, ttl_cap=1.0),
        clock=lambda: clock_now[0],
    )
    return local, clock_now


def test_a_stale_copy_is_served_while_another_process_reloads(start_child):
    child = start_child()
    child.call("start")
    local, clock_now = _one_second_cache()
    key = f"stale-{uuid.uuid4().hex[:8]}"
    counter = f"{settings.REDIS_PREFIX}:test:{key}:loads"
    assert local.get_or_load(key, lambda: "old") == "old"
    time.sleep(1.1)  # the Redis copy expires; ours is kept as stale
    clock_now[0] += 2
    thread = threading.Thread(
        target=child.call,
        args=("slow_load",),
        kwargs={"key": key, "sleep": 0.5, "counter": counter},
    )
    thread.start()
    r = redis.Redis.from_url(settings.REDIS_URL)
    while r.get(counter) is None:
        time.sleep(0.005)
    started = time.time()
    assert local.get_or_load(key, lambda: "never") == "old"  # stale, at once
    assert time.time() - started < 0.1
    assert local.counters["stale_served"] == 1
    thread.join()
    local.close()


def test_get_many_reads_both_tiers_and_loads_the_rest_once(start_child):
    child = start_child()
    child.call("start")
    tag = uuid.uuid4().hex[:8]
    keys = [f"many-{tag}-{i}" for i in range(6)]
    # The other process holds the first three in Redis.
    for key in keys[:3]:
        assert child.call("get", key=key, value=f"child-{key}") == f"child-{key}"
    asked: list = []

    def loader_many(missing: list[str]) -> dict:
        asked.append(list(missing))
        return {k: f"db-{k}" for k in missing if not k.endswith("-5")}  # -5 does not exist

    got = cache.get_many(keys, loader_many, tags_for=lambda k: [f"group:{tag}"])
    assert got == {
        **{k: f"child-{k}" for k in keys[:3]},
        keys[3]: f"db-{keys[3]}",
        keys[4]: f"db-{keys[4]}",
    }
    assert asked == [keys[3:]]
    # Stored in Redis: the other process reads them without loading.
    assert child.call("get", key=keys[4], value="never") == f"db-{keys[4]}"
    # And their tag reaches the other process.
    cache.invalidate_tag(f"group:{tag}")
    assert child.call("wait_dropped", name=f"tag:group:{tag}") is not None
    assert child.call("get", key=keys[4], value="fresh") == "fresh"


def test_concurrent_get_many_misses_load_each_key_once_across_processes(start_child):
    """The other process and four threads here ask overlapping sets of the same missing
    keys at once: every key is loaded by exactly one of them, and all get that value."""
    child = start_child()
    child.call("start")
    tag = uuid.uuid4().hex[:8]
    keys = [f"gm-{tag}-{i}" for i in range(9)]
    counter = f"{settings.REDIS_PREFIX}:test:{tag}:loads"
    r = redis.Redis.from_url(settings.REDIS_URL)
    results: dict = {}

    def child_load() -> None:
        results["child"] = child.call("get_many_slow", keys=keys[:6], sleep=0.5, counter=counter)

    thread = threading.Thread(target=child_load)
    thread.start()
    deadline = time.time() + 5
    while r.get(f"{counter}:{keys[0]}") is None and time.time() < deadline:
        time.sleep(0.005)  # the child holds the locks of keys 0-5 and is loading them

    def local_loader(missing: list[str]) -> dict:
        for key in missing:
            r.incr(f"{counter}:{key}")
        time.sleep(0.2)
        return {key: f"{key}-loaded-here" for key in missing}

    here: list = [None] * 4

    def local(i: int) -> None:
        here[i] = cache.get_many(keys[i : i + 6], local_loader)

    threads = [threading.Thread(target=local, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    thread.join()
    loads = {key: int(r.get(f"{counter}:{key}") or 0) for key in keys}
    assert loads == dict.fromkeys(keys, 1), "a key was loaded more than once"
    by_child = {key: f"{key}-loaded-by-{child.proc.pid}" for key in keys[:6]}
    assert results["child"] == by_child
    for i, got in enumerate(here):
        assert set(got) == set(keys[i : i + 6])
        for key in keys[i : i + 6]:
            assert got[key] == by_child.get(key, f"{key}-loaded-here")
    assert cache.counters["lock_waits"] >= 1


def test_get_many_serves_stale_copies_of_keys_another_process_is_reloading(start_child):
    child = start_child()
    child.call("start")
    local, clock_now = _one_second_cache()
    tag = uuid.uuid4().hex[:8]
    keys = [f"gms-{tag}-{i}" for i in range(3)]
    counter = f"{settings.REDIS_PREFIX}:test:{tag}:loads"
    assert local.get_many(keys, lambda missing: dict.fromkeys(missing, "old")) == dict.fromkeys(
        keys, "old"
    )
    time.sleep(1.1)  # the Redis copies expire; ours are kept as stale
    clock_now[0] += 2
    thread = threading.Thread(
        target=child.call,
        args=("get_many_slow",),
        kwargs={"keys": keys[:2], "sleep": 0.5, "counter": counter},
    )
    thread.start()
    r = redis.Redis.from_url(settings.REDIS_URL)
    deadline = time.time() + 5
    while r.get(f"{counter}:{keys[0]}") is None and time.time() < deadline:
        time.sleep(0.005)  # the child holds the locks of keys 0 and 1
    asked: list = []

    def loader(missing: list[str]) -> dict:
        asked.append(list(missing))
        return dict.fromkeys(missing, "new")

    started = time.time()
    got = local.get_many(keys, loader)
    # Keys 0 and 1: our stale copies, at once; key 2 (nobody loading it): loaded here.
    assert got == {keys[0]: "old", keys[1]: "old", keys[2]: "new"}
    assert asked == [[keys[2]]]
    assert time.time() - started < 0.3
    assert local.counters["stale_served"] == 2
    thread.join()
    local.close()
