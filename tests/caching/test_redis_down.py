"""Redis killed under two processes, then back: no read fails, nothing stale survives."""

from __future__ import annotations

import time

import pytest

from apps.caching.service import TwoTierCache


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_redis_down_and_back(start_redis, start_child):
    server = start_redis()
    url = f"redis://127.0.0.1:{server.port}/0"
    here = TwoTierCache(redis_url=url, prefix="wsocache-down")
    here.start()
    assert here.subscribed.is_set()
    child = start_child({"REDIS_URL": url, "REDIS_PREFIX": "wsocache-down"})
    assert child.call("start") is True

    assert here.get_or_load("x", lambda: "v1") == "v1"
    assert child.call("get", key="x", value="ignored") == "v1"  # from L2
    assert here.get_or_load("y", lambda: "y1") == "y1"

    server.kill()
    # L1 keeps serving, fast.
    started = time.perf_counter()
    assert here.get_or_load("x", lambda: "from-db") == "v1"
    assert time.perf_counter() - started < 0.01
    # A miss goes to the loader (the database) and never raises; the breaker opens.
    slowest = 0.0
    for i in range(20):
        started = time.perf_counter()
        assert here.get_or_load(f"new{i}", lambda i=i: f"db{i}") == f"db{i}"
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.5
    assert here.counters["redis_errors"] >= 1
    assert here.breaker_open or wait_until(lambda: not here.subscribed.is_set(), 3)
    # A write during the outage: dropped here at once, queued for Redis.
    here.invalidate("x")
    assert here.get_or_load("x", lambda: "v2") == "v2"
    # The other process cannot hear about it yet: it serves what it has.
    assert child.call("get", key="x", value="v2") == "v1"

    server = start_redis(port=server.port)  # back, empty
    assert wait_until(lambda: here.subscribed.is_set(), 10)

    def child_recovered() -> bool:
        stats = child.call("stats")
        return stats["redis"]["subscribed"] and stats["invalidation"]["l1_flushes"] >= 2

    assert wait_until(child_recovered, 10), child.call("stats")
    # The child dropped its whole L1 on reconnecting: no stale "v1" any more.
    assert child.call("get", key="x", value="v2") == "v2"
    # And invalidation works again across the two processes.
    here.get_or_load("z", lambda: "z1")
    assert child.call("get", key="z", value="other") == "z1"
    here.invalidate("z")
    assert wait_until(lambda: child.call("peek", key="z") is False, 2)
    assert here.stats()["errors"]["redis"] >= 1
    here.close()
