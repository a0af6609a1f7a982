"""The in-process tier: a byte-bounded W-TinyLFU cache, and a plain LRU to compare it with.

Why W-TinyLFU rather than a plain LRU: on a skewed (Zipf) workload an LRU lets every
one-off key push out a popular one. Here a new key first lands in a small recency
window (1 % of the bytes); when it leaves the window it must beat the main area's
least valuable entry on estimated frequency (a count-min sketch of recent accesses,
halved periodically so it forgets) to get in. The main area is a segmented LRU
(probation 20 %, protected 80 %): a key hit while on probation is promoted.

Entries that pass their expiry are kept (as stale copies) until evicted or
invalidated, so a caller may serve them while another process reloads the key.
Pinned entries (live weddings) sit outside the LRU order and are never evicted,
up to a quarter of the budget.

The hit path (the service inlines it, see TwoTierCache.get_or_load): a hit takes no
lock and touches as little memory as it can, because on a busy process each cold cache
line costs more than the bytecode around it. It reads `next_expiry` (the earliest expiry
of any fresh entry), looks the key up in `fresh` (key -> value of the entries not yet
expired) and appends the key to a read buffer. No Entry and no expiry float is touched.
Entries reach `fresh` when stored and leave it when dropped or when `expire(now)` finds
them past their expiry (a heap ordered by expiry); a hit therefore only has to check that
`now < next_expiry`, and calls `expire` when it is not.

Ordering that keeps this exact without a lock: a writer lowers `next_expiry` before it
adds a key to `fresh`, and `expire` removes keys from `fresh` before it raises
`next_expiry`; a reader reads `next_expiry` before `fresh`. A reader that serves a value
therefore saw a `next_expiry` at or before that value's expiry, later than its own clock.

A hit's sketch increment and LRU move (the bulk of a hit's cost) are replayed in order,
under the one lock that every write holds, by the next write or once READ_BUFFER hits are
buffered; frequency() drains first, so admission and TTL decisions see every hit. This
is Caffeine's read buffer; the policy is the same W-TinyLFU, applied a few reads late.
It relies on the GIL making list.append and dict.get atomic (Python 3.11); a buffer
emptied while a reader appends may lose that one access (counts are estimates anyway).
A free-threaded (no-GIL) Python would need a lock around the append.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

WINDOW, PROBATION, PROTECTED, PINNED = 0, 1, 2, 3
# Hits buffered before a reader applies them itself (writes apply them first anyway).
READ_BUFFER = 64
# Marks "no fresh value" in `fresh` lookups (a cached value may be None).
MISSING = object()
_HALVE = bytes(i >> 1 for i in range(256))


class Entry:
    # s0-s3: the key's four sketch counters, computed once when stored so a replayed
    # hit does not re-hash and re-mask the key (the table's size never changes).
    __slots__ = ("key", "value", "size", "expires", "segment", "tags", "s0", "s1", "s2", "s3")

    def __init__(self, key: str, value: Any, size: int, expires: float, tags: tuple) -> None:
        self.key = key
        self.value = value
        self.size = size
        self.expires = expires
        self.segment = WINDOW
        self.tags = tags


class FrequencySketch:
    """Count-min sketch of 4 saturating 4-bit counters (one byte each) per key.

    The four counters of a key sit in one 64-byte block (one CPU cache line), as in
    Caffeine: a hit then costs one cache miss, not four. Every `sample` increments all
    counters are halved, so frequency is "recent"."""

    def __init__(self, width: int) -> None:
        size = 64
        while size < width * 4:
            size <<= 1
        self.table = bytearray(size)
        self.block_mask = (size >> 6) - 1
        self.sample = 10 * (size >> 2)
        self.additions = 0

    def slots(self, key: str) -> tuple[int, int, int, int]:
        """Indexes of the key's four counters in `table`."""
        h = hash(key)
        base = (h & self.block_mask) << 6
        return (
            base | ((h >> 40) & 15),
            base | 16 | ((h >> 44) & 15),
            base | 32 | ((h >> 48) & 15),
            base | 48 | ((h >> 52) & 15),
        )

    def increment(self, key: str) -> None:
        t = self.table
        for i in self.slots(key):
            if t[i] < 15:
                t[i] += 1
        self.additions += 1
        if self.additions >= self.sample:
            self.age()

    def age(self) -> None:
        """Halve every counter: frequency means recent frequency."""
        self.additions //= 2
        self.table = self.table.translate(_HALVE)

    def estimate(self, key: str) -> int:
        t = self.table
        a, b, c, d = self.slots(key)
        return min(t[a], t[b], t[c], t[d])

    def clear(self) -> None:
        self.table = bytearray(len(self.table))
        self.additions = 0


class TinyLFUCache:
    """Byte-bounded W-TinyLFU. `get` returns the Entry (even expired) or None."""

    def __init__(self, max_bytes: int, average_entry_bytes: int = 1024) -> None:
        self.max_bytes = max(int(max_bytes), 1)
        self.window_budget = max(self.max_bytes // 100, 1)
        self.main_budget = self.max_bytes - self.window_budget
        self.protected_budget = self.main_budget * 8 // 10
        self.pinned_budget = self.max_bytes // 4
        # The largest entry kept: one key must not flush the whole window and main area.
        self.max_entry_bytes = max(self.max_bytes // 8, 1)
        self.sketch = FrequencySketch(max(self.max_bytes // max(average_entry_bytes, 1), 64) * 4)
        self.lock = threading.Lock()
        self.map: dict[str, Entry] = {}
        self.segments: list[OrderedDict[str, Entry]] = [OrderedDict() for _ in range(4)]
        self.seg_bytes = [0, 0, 0, 0]
        self.by_tag: dict[str, set[str]] = {}
        self.evictions = 0
        self.rejections = 0
        # The hit path's view (see the module docstring): values of unexpired entries,
        # and the earliest expiry among them. `fresh` is never rebound, only mutated,
        # so callers may keep a reference to it.
        self.fresh: dict[str, Any] = {}
        self.next_expiry = float("inf")
        # (expires, sequence, entry) of every entry stored; stale items (entries since
        # replaced or dropped) are skipped when popped and compacted away in bulk.
        self._expiry_heap: list[tuple[float, int, Entry]] = []
        self._sequence = itertools.count()
        # Keys of hits waiting to be applied to the sketch and the LRU order, and how
        # many were applied: hits = drained_hits + len(reads). Never rebound either.
        self.reads: list[str] = []
        self.drained_hits = 0

    # --- reads -----------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """Record the access and return the entry (callers check `expires`).

        A hit only appends the entry to the read buffer: its sketch increment and LRU
        move are replayed in order, under the lock, by the next write or once the
        buffer is full (see `_drain`)."""
        entry = self.map.get(key)
        if entry is None:
            self._count_miss(key)
            return None
        reads = self.reads
        reads.append(key)
        if len(reads) >= READ_BUFFER:
            self.drain()
        return entry

    def expire(self, now: float) -> int:
        """Take the entries whose expiry is at or before `now` out of `fresh` (they stay
        as stale copies); returns how many. Called when a reader finds
        `now >= next_expiry`."""
        dropped = 0
        with self.lock:
            heap, live, fresh = self._expiry_heap, self.map, self.fresh
            while heap and heap[0][0] <= now:
                entry = heapq.heappop(heap)[2]
                if live.get(entry.key) is entry and fresh.pop(entry.key, MISSING) is not MISSING:
                    dropped += 1
            # Only now raise it: a reader that still sees the old value takes the slow path.
            self.next_expiry = heap[0][0] if heap else float("inf")
        return dropped

    @property
    def hits(self) -> int:
        """Lookups that found an entry (fresh or not), drained or still buffered."""
        return self.drained_hits + len(self.reads)

    def drain(self) -> None:
        """Replay the buffered hits: what a hit would otherwise do itself."""
        with self.lock:
            self._drain()

    def _count_miss(self, key: str) -> None:
        """A miss counts towards the key's frequency too (that is how it earns admission)."""
        sketch = self.sketch
        t = sketch.table
        for i in sketch.slots(key):
            if t[i] < 15:
                t[i] += 1
        sketch.additions += 1
        if sketch.additions >= sketch.sample:
            with self.lock:  # two threads reaching the threshold together must halve once
                if sketch.additions >= sketch.sample:
                    sketch.age()

    def peek(self, key: str) -> Entry | None:
        """The entry without touching recency or frequency (tests, stale reads)."""
        return self.map.get(key)

    def frequency(self, key: str) -> int:
        if self.reads:
            self.drain()
        return self.sketch.estimate(key)

    # --- writes ----------------------------------------------------------------
    def put(
        self,
        key: str,
        value: Any,
        size: int,
        expires: float,
        tags: tuple = (),
        pinned: bool = False,
    ) -> bool:
        """Store; False when the entry was not kept (too large, or not admitted)."""
        if size > self.max_entry_bytes:
            with self.lock:
                self._drain()
                self._remove(key)
            return False
        with self.lock:
            self._drain()
            self._remove(key)
            entry = Entry(key, value, size, expires, tuple(tags))
            entry.s0, entry.s1, entry.s2, entry.s3 = self.sketch.slots(key)
            if pinned and self.seg_bytes[PINNED] + size <= self.pinned_budget:
                self._link(entry, PINNED)
                return True
            self._link(entry, WINDOW)
            kept = True
            while self.seg_bytes[WINDOW] > self.window_budget:
                _, candidate = self.segments[WINDOW].popitem(last=False)
                self.seg_bytes[WINDOW] -= candidate.size
                if not self._admit(candidate):
                    self._forget(candidate)
                    self.rejections += 1
                    kept = kept and candidate is not entry
            return kept

    def discard(self, key: str) -> bool:
        with self.lock:
            self._drain()
            return self._remove(key)

    def discard_tag(self, tag: str) -> int:
        with self.lock:
            self._drain()
            keys = self.by_tag.pop(tag, ())
            return sum(1 for key in list(keys) if self._remove(key))

    def drop_expired_pins(self, now: float) -> int:
        """Remove pinned entries whose wedding day is over (they are outside the LRU
        order, so nothing else would ever evict them)."""
        with self.lock:
            expired = [k for k, e in self.segments[PINNED].items() if e.expires <= now]
            for key in expired:
                self._remove(key)
            return len(expired)

    def clear(self) -> None:
        with self.lock:
            self._drain()
            self.map.clear()
            self.fresh.clear()
            self._expiry_heap.clear()
            self.next_expiry = float("inf")
            for segment in self.segments:
                segment.clear()
            self.seg_bytes = [0, 0, 0, 0]
            self.by_tag.clear()

    # --- introspection ---------------------------------------------------------
    @property
    def bytes(self) -> int:
        return sum(self.seg_bytes)

    def __len__(self) -> int:
        return len(self.map)

    def __contains__(self, key: str) -> bool:
        return key in self.map

    def keys(self) -> Iterator[str]:
        return iter(list(self.map))

    # --- internals (called with the lock held) -----------------------------------
    def _drain(self) -> None:
        """Apply the buffered hits in order: sketch increment, then the LRU move or the
        promotion out of probation, exactly as a locked hit used to do at once.

        The buffer is copied and emptied first; a reader that appended between the two
        loses that one access (a sampling error, as in Caffeine's lossy read buffers)."""
        buffer = self.reads
        if not buffer:
            return
        reads = buffer[:]
        buffer.clear()
        self.drained_hits += len(reads)
        sketch = self.sketch
        t = sketch.table
        live = self.map
        segments = self.segments
        for key in reads:
            entry = live.get(key)
            if entry is None:  # dropped since it was read: it still counts as an access
                for i in sketch.slots(key):
                    if t[i] < 15:
                        t[i] += 1
                sketch.additions += 1
                continue
            i = entry.s0
            if t[i] < 15:
                t[i] += 1
            i = entry.s1
            if t[i] < 15:
                t[i] += 1
            i = entry.s2
            if t[i] < 15:
                t[i] += 1
            i = entry.s3
            if t[i] < 15:
                t[i] += 1
            sketch.additions += 1
            if sketch.additions >= sketch.sample:
                sketch.age()
                t = sketch.table
            segment = entry.segment
            if segment == PROTECTED or segment == WINDOW:
                segments[segment].move_to_end(key)
            elif segment == PROBATION:
                self._promote(entry)

    def _link(self, entry: Entry, segment: int) -> None:
        entry.segment = segment
        self.segments[segment][entry.key] = entry
        self.seg_bytes[segment] += entry.size
        self.map[entry.key] = entry
        heap = self._expiry_heap
        if len(heap) > 2 * len(self.map) + 1024:
            self._compact_heap()
        heapq.heappush(heap, (entry.expires, next(self._sequence), entry))
        # Lower next_expiry before the key becomes visible in `fresh` (module docstring).
        if entry.expires < self.next_expiry:
            self.next_expiry = entry.expires
        self.fresh[entry.key] = entry.value
        for tag in entry.tags:
            self.by_tag.setdefault(tag, set()).add(entry.key)

    def _compact_heap(self) -> None:
        """Rebuild the expiry heap from the fresh entries alone: replaced and dropped
        entries leave items behind, which would otherwise pile up until their expiry."""
        live, fresh = self.map, self.fresh
        heap = [(e.expires, next(self._sequence), e) for k, e in live.items() if k in fresh]
        heapq.heapify(heap)
        self._expiry_heap[:] = heap

    def _forget(self, entry: Entry) -> None:
        """Drop an entry already unlinked from its segment."""
        self.map.pop(entry.key, None)
        self.fresh.pop(entry.key, None)
        for tag in entry.tags:
            keys = self.by_tag.get(tag)
            if keys is not None:
                keys.discard(entry.key)
                if not keys:
                    del self.by_tag[tag]

    def _remove(self, key: str) -> bool:
        entry = self.map.get(key)
        if entry is None:
            return False
        del self.segments[entry.segment][key]
        self.seg_bytes[entry.segment] -= entry.size
        self._forget(entry)
        return True

    def _main_bytes(self) -> int:
        return self.seg_bytes[PROBATION] + self.seg_bytes[PROTECTED]

    def _admit(self, candidate: Entry) -> bool:
        """TinyLFU: the candidate enters the main area only if it is more frequent than
        each victim it would push out."""
        probation, protected = self.segments[PROBATION], self.segments[PROTECTED]
        freq = None
        while self._main_bytes() + candidate.size > self.main_budget:
            source = probation if probation else protected
            victim_key = next(iter(source))
            if freq is None:
                freq = self.sketch.estimate(candidate.key)
            if freq <= self.sketch.estimate(victim_key):
                return False
            victim = source.pop(victim_key)
            self.seg_bytes[victim.segment] -= victim.size
            self._forget(victim)
            self.evictions += 1
        candidate.segment = PROBATION
        probation[candidate.key] = candidate
        self.seg_bytes[PROBATION] += candidate.size
        return True

    def _promote(self, entry: Entry) -> None:
        key = entry.key
        del self.segments[PROBATION][key]
        self.seg_bytes[PROBATION] -= entry.size
        entry.segment = PROTECTED
        self.segments[PROTECTED][key] = entry
        self.seg_bytes[PROTECTED] += entry.size
        protected = self.segments[PROTECTED]
        while self.seg_bytes[PROTECTED] > self.protected_budget and len(protected) > 1:
            _, demoted = protected.popitem(last=False)
            self.seg_bytes[PROTECTED] -= demoted.size
            demoted.segment = PROBATION
            self.segments[PROBATION][demoted.key] = demoted
            self.seg_bytes[PROBATION] += demoted.size


class PlainLRU:
    """A byte-bounded LRU with no admission policy: the baseline the benchmark compares to."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.data: OrderedDict[str, int] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def get(self, key: str) -> bool:
        if key in self.data:
            self.data.move_to_end(key)
            return True
        return False

    def put(self, key: str, size: int) -> None:
        old = self.data.pop(key, None)
        if old is not None:
            self.bytes -= old
        self.data[key] = size
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, dropped = self.data.popitem(last=False)
            self.bytes -= dropped
            self.evictions += 1


def simulate_hit_ratio(cache: PlainLRU | TinyLFUCache, keys: Iterable[str], size: int) -> float:
    """Hit ratio of a key sequence on a cache (a miss stores the key): for comparisons."""
    hits = total = 0
    if isinstance(cache, PlainLRU):
        for key in keys:
            total += 1
            if cache.get(key):
                hits += 1
            else:
                cache.put(key, size)
    else:
        for key in keys:
            total += 1
            if cache.get(key) is not None:
                hits += 1
            else:
                cache.put(key, None, size, float("inf"))
    return hits / total if total else 0.0
