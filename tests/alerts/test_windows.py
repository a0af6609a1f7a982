"""Both window stores keep the same windows: sorted, trimmed, one per series."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings

from apps.alerts import conf
from apps.alerts.models import fingerprint
from apps.alerts.windows import MemoryWindowStore, RedisWindowStore


@pytest.fixture(params=["memory", "redis"])
def window_store(request):
    if request.param == "memory":
        yield MemoryWindowStore()
        return
    s = RedisWindowStore(settings.REDIS_URL, settings.REDIS_PREFIX + "-wtest")
    s.clear()
    yield s
    s.clear()


def test_windows_are_sorted_trimmed_and_per_series(window_store):
    a, b = {"pod": "a"}, {"pod": "b"}
    t = 1_800_000_000.0
    touched = window_store.append(
        [("m", a, t + 2, 2.0), ("m", a, t + 1, 1.0), ("m", b, t + 1, 7.0), ("m", a, t + 2, 2.5)]
    )
    assert touched == {"m": {fingerprint(a): a, fingerprint(b): b}}
    got = window_store.read("m", [fingerprint(a), fingerprint(b), "missing"], t)
    assert got[fingerprint(a)].tolist() == [[t + 1, 1.0], [t + 2, 2.0], [t + 2, 2.5]]
    assert got[fingerprint(b)].tolist() == [[t + 1, 7.0]]
    assert got["missing"].shape == (0, 2)
    assert window_store.read("m", [fingerprint(a)], t + 1.5)[fingerprint(a)].shape == (2, 2)
    # a sample beyond the longest window pushes the old ones out
    window_store.append([("m", a, t + 2 + conf.MAX_WINDOW_SECONDS + 1, 9.0)])
    kept = window_store.read("m", [fingerprint(a)], 0)[fingerprint(a)]
    assert kept[:, 1].tolist() == [9.0]
    assert window_store.series("m") == {fingerprint(a): a, fingerprint(b): b}
    assert window_store.last_seen("m")[fingerprint(b)] == t + 1


def test_series_index_only_for_tracked_metrics(window_store):
    window_store.append(
        [("watched", {}, 1.0, 1.0), ("other", {}, 1.0, 1.0)], frozenset({"watched"})
    )
    assert window_store.series("watched") and not window_store.series("other")
    assert isinstance(window_store.read("other", [fingerprint({})], 0)[fingerprint({})], np.ndarray)


def test_versions_move_when_bumped(window_store):
    before = window_store.versions()
    window_store.bump("rules")
    assert window_store.versions() == (before[0] + 1, before[1])
