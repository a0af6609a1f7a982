"""publish(topic, data) -> seq: the one write path for gateway messages.

Fast path: one Redis round trip (Lua: next seq, capped history, PUBLISH). When Redis is
unreachable (or the breaker is open) the message goes to the PostgreSQL outbox and the
relay announces it, in order, once Redis answers again. While anything waits in the
outbox, new publishes queue behind it so order holds.
"""

from __future__ import annotations

import logging
import threading

import orjson
from django.db import connection, transaction

from apps.realtime.breaker import redis_breaker
from apps.realtime.delivery import deliveries
from apps.realtime.models import OutboxMessage, TopicSeq
from apps.realtime.store import get_store
from apps.realtime.topics import parse_topic

log = logging.getLogger(__name__)
MAX_DATA_BYTES = 256 * 1024
_relay_lock = threading.Lock()


class PublishError(ValueError):
    pass


def encode_data(data: object) -> str:
    if not isinstance(data, dict):
        raise PublishError("'data' must be a JSON object.")
    try:
        text = orjson.dumps(data).decode()
    except TypeError as exc:
        raise PublishError(f"'data' is not JSON-serialisable: {exc}") from None
    if len(text) > MAX_DATA_BYTES:
        raise PublishError(f"'data' is {len(text)} bytes; the limit is {MAX_DATA_BYTES}.")
    return text


def publish(topic: str, data: dict) -> int | None:
    """Announce `data` on `topic`; returns its sequence number, or None when it was queued
    in the outbox (Redis down) to be delivered in order later. Call it after commit
    (see publish_on_commit)."""
    parse_topic(topic)
    text = encode_data(data)
    if OutboxMessage.objects.exists():
        OutboxMessage.objects.create(topic=topic, data=text)
        relay()
        return None
    seqs = _announce([(topic, text)])
    if seqs is None:
        OutboxMessage.objects.create(topic=topic, data=text)
        return None
    return seqs[0]


def publish_on_commit(topic: str, data: dict) -> None:
    """For callers inside a transaction: publish once it commits."""
    parse_topic(topic)
    encode_data(data)
    transaction.on_commit(lambda: publish(topic, data))


def _announce(items: list[tuple[str, str]]) -> list[int] | None:
    """Publish through the store; None if Redis is unreachable (breaker notified)."""
    store = get_store()
    if not redis_breaker.allow():
        return None
    rows = [(t, d, deliveries.get(t).replay, -1) for t, d in items]
    try:
        seqs = store.publish_many(rows)
        missing = [i for i, s in enumerate(seqs) if s < 0]
        if missing:
            # Redis has no counter for these topics: continue from PostgreSQL's record.
            floors = seq_floors({items[i][0] for i in missing})
            retry = [(*rows[i][:3], floors[rows[i][0]]) for i in missing]
            for i, seq in zip(missing, store.publish_many(retry), strict=True):
                seqs[i] = seq
    except Exception as exc:  # redis ConnectionError, TimeoutError, BusyLoadingError...
        if type(exc).__module__.startswith("redis"):
            redis_breaker.failure()
            log.warning("publish: Redis unavailable (%s); using the outbox", exc)
            return None
        raise
    redis_breaker.success()
    _record_seqs({t: s for (t, _), s in zip(items, seqs, strict=True)})
    _count_published(len(items))
    return seqs


def seq_floors(topics: set[str] | list[str]) -> dict[str, int]:
    """PostgreSQL's record of each topic's last seq (0 if never published): where numbering
    goes on when Redis has lost its counters. Publishers and the hub's replay both seed
    Redis from it, so they agree."""
    topics = set(topics)
    found = dict(TopicSeq.objects.filter(topic__in=topics).values_list("topic", "last_seq"))
    return {t: found.get(t, 0) for t in topics}


def _record_seqs(latest: dict[str, int]) -> None:
    postgres = connection.vendor == "postgresql"
    greatest = "GREATEST" if postgres else "MAX"
    table = TopicSeq._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres and not _outer_atomic():
            # The floor only matters after Redis lost its data; not worth an fsync wait
            # on every publish (7 ms on a busy disk against 0.4 ms for the Redis part).
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.executemany(
            f"INSERT INTO {table} (topic, last_seq) VALUES (%s, %s) "
            f"ON CONFLICT (topic) DO UPDATE SET last_seq = {greatest}({table}.last_seq, "
            "EXCLUDED.last_seq)",
            list(latest.items()),
        )


def _outer_atomic() -> bool:
    # Inside transaction.atomic() the savepoint stack shows whether an outer block exists.
    return len(connection.savepoint_ids) > 0 or connection.atomic_blocks[:-1] != []


def _count_published(n: int) -> None:
    from apps.core.metrics import gateway_messages_in

    gateway_messages_in.inc(n)


def relay(batch: int = 200) -> int:
    """Announce the outbox in id order; returns how many went out. Safe to call from many
    processes: rows are locked while announced, so two relays never reorder them."""
    sent = 0
    with _relay_lock:
        while True:
            with transaction.atomic():
                rows = list(OutboxMessage.objects.select_for_update().order_by("id")[:batch])
                if not rows:
                    return sent
                seqs = _announce([(r.topic, r.data) for r in rows])
                if seqs is None:
                    return sent
                OutboxMessage.objects.filter(id__in=[r.id for r in rows]).delete()
                sent += len(rows)
