"""The in-process tier and the stored form of values (no Redis needed)."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from apps.caching.codec import Codec, CodecError
from apps.caching.l1 import PlainLRU, TinyLFUCache, simulate_hit_ratio


def zipf_keys(n_keys: int, n_requests: int, s: float = 1.0, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_keys + 1) ** s
    cdf = np.cumsum(weights) / weights.sum()
    ranks = rng.permutation(n_keys)[np.searchsorted(cdf, rng.random(n_requests))]
    return [f"k{r}" for r in ranks]


def test_tinylfu_beats_plain_lru_on_zipf():
    keys = zipf_keys(20_000, 200_000)
    budget = 2_000 * 1024  # 10 % of the keys
    lru = simulate_hit_ratio(PlainLRU(budget), keys, 1024)
    tiny = simulate_hit_ratio(TinyLFUCache(budget), keys, 1024)
    assert 0.6 < lru < 0.8
    assert tiny > lru + 0.03, (tiny, lru)


def test_byte_budget_is_respected_and_large_values_are_refused():
    cache = TinyLFUCache(100_000)
    for i in range(1_000):
        cache.put(f"k{i}", i, 1_000, float("inf"))
    assert cache.bytes <= 100_000
    assert len(cache) <= 100
    assert cache.evictions + cache.rejections > 0
    assert cache.put("huge", "x", 50_000, float("inf")) is False  # over 1/8 of the budget
    assert "huge" not in cache


def test_frequent_key_survives_a_scan_of_one_off_keys():
    cache = TinyLFUCache(50 * 1024)
    cache.put("hot", "v", 1024, float("inf"))
    for _ in range(20):
        assert cache.get("hot") is not None
    for i in range(5_000):  # a scan: each key seen once
        cache.get(f"scan{i}")
        cache.put(f"scan{i}", i, 1024, float("inf"))
    assert cache.get("hot") is not None


def test_buffered_hits_count_before_any_write():
    """A hit is only buffered; the next decision that needs frequency must still see it."""
    cache = TinyLFUCache(50 * 1024)
    cache.put("hot", "v", 1024, float("inf"))
    for _ in range(10):
        assert cache.get("hot").value == "v"
    assert cache.frequency("hot") == 10
    assert cache.hits == 10


def test_lock_free_reads_with_a_concurrent_writer_keep_the_cache_consistent():
    import threading

    cache = TinyLFUCache(200 * 1024)
    keys = zipf_keys(2_000, 40_000, seed=11)
    errors: list[BaseException] = []
    found = [0] * 4
    stop = threading.Event()

    def read(n: int) -> None:
        try:
            for key in keys[n::4]:
                if cache.get(key) is not None:
                    found[n] += 1
        except BaseException as exc:  # any exception here is the failure
            errors.append(exc)

    def write() -> None:
        try:
            i = 0
            while not stop.is_set():
                key = keys[i % len(keys)]
                cache.put(key, i, 1024, float("inf"))
                if i % 7 == 0:
                    cache.discard(keys[(i * 13) % len(keys)])
                i += 1
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    readers = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    writer.start()
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    writer.join()
    assert not errors, errors
    cache.drain()
    # Every entry is in exactly one segment, and the byte counts add up.
    in_segments = [key for segment in cache.segments for key in segment]
    assert sorted(in_segments) == sorted(cache.map)
    for number, segment in enumerate(cache.segments):
        assert cache.seg_bytes[number] == sum(e.size for e in segment.values())
        assert all(e.segment == number for e in segment.values())
    assert cache.bytes <= cache.max_bytes
    # The lock-free hit path's view agrees with the entries (all stored without expiry).
    assert cache.fresh == {key: entry.value for key, entry in cache.map.items()}
    # Hits are counted (a hit racing a buffer swap may be lost: a sampling error).
    assert 0.99 * sum(found) <= cache.hits <= sum(found)


def test_expire_takes_exactly_the_due_entries_out_of_the_hit_path():
    """`fresh` (what a lock-free hit reads) loses an entry at its expiry, not before; the
    entry stays as a stale copy; a replaced key keeps its new value."""
    cache = TinyLFUCache(1_000 * 1024)
    for i in range(100):
        cache.put(f"k{i}", i, 1024, 1_000.0 + i)
    cache.put("k5", "new", 1024, 5_000.0)  # replaced: its old expiry (1005) must not apply
    assert cache.next_expiry == 1_000.0
    assert cache.expire(1_009.5) == 9  # k0..k9 but not the replaced k5
    assert sorted(set(cache.map) - set(cache.fresh)) == sorted(f"k{i}" for i in range(10) if i != 5)
    assert cache.fresh["k5"] == "new" and cache.fresh["k10"] == 10
    assert cache.next_expiry == 1_010.0
    assert cache.peek("k3").value == 3  # kept as a stale copy
    cache.put("early", "e", 1024, 900.0)  # stored already expired: the next read expires it
    assert cache.next_expiry == 900.0
    cache.discard("k10")
    assert "k10" not in cache.fresh
    assert cache.expire(1_200.0) == 90  # early and k11..k99 (k10 was discarded)
    assert cache.fresh == {"k5": "new"} and cache.next_expiry == 5_000.0


def test_expiry_heap_stays_bounded_when_keys_are_rewritten():
    cache = TinyLFUCache(100 * 1024)
    for i in range(50_000):
        cache.put(f"k{i % 50}", i, 1024, 1e9 + i)
    assert len(cache._expiry_heap) <= 2 * len(cache.map) + 1025
    assert cache.fresh == {key: entry.value for key, entry in cache.map.items()}


def test_pinned_entries_are_never_evicted_and_tags_drop_keys():
    cache = TinyLFUCache(20 * 1024)
    cache.put("live", "v", 1024, float("inf"), tags=("wedding:1",), pinned=True)
    cache.put("other", "v", 1024, float("inf"), tags=("wedding:1", "venue:3"))
    for i in range(2_000):
        cache.put(f"k{i}", i, 1024, float("inf"))
    assert cache.get("live") is not None
    cache.put("other", "v", 1024, float("inf"), tags=("wedding:1", "venue:3"))
    assert cache.discard_tag("wedding:1") >= 1
    assert "live" not in cache and "other" not in cache
    assert "venue:3" not in cache.by_tag or "other" not in cache.by_tag["venue:3"]


@pytest.mark.parametrize(
    "value",
    [
        {"name": "a" * 5_000, "when": datetime(2026, 6, 6, 14, tzinfo=UTC)},
        frozenset(range(2_000)),
        {"date": date(2026, 6, 6), "time": time(14, 30), "n": None},
        "short",
        b"\x00" * 10,
    ],
)
def test_codec_round_trip(value):
    codec = Codec(threshold=256)
    blob, raw_size = codec.encode(value)
    assert codec.decode(blob) == value
    assert raw_size == len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) + 1
    if raw_size > 256 and not isinstance(value, bytes):
        assert blob[:1] == b"z" and len(blob) < raw_size  # compressed, and it paid off


def test_codec_rejects_corrupt_bytes_with_a_clear_error():
    codec = Codec()
    with pytest.raises(CodecError, match="unknown cached value header"):
        codec.decode(b"?garbage")
    with pytest.raises(CodecError, match="cannot decode"):
        codec.decode(b"z not zstd at all")
    with pytest.raises(CodecError, match="empty"):
        codec.decode(b"")


def test_pins_are_dropped_once_their_day_is_over():
    cache = TinyLFUCache(20 * 1024)
    cache.put("done", "v", 1024, 100.0, pinned=True)
    cache.put("today", "v", 1024, 200.0, pinned=True)
    assert cache.drop_expired_pins(150.0) == 1
    assert "done" not in cache and "today" in cache
    assert cache.bytes == 1024
