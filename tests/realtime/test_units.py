"""Domain pieces without HTTP: topics, breaker, memory store, delivery profiles, collectors."""

from __future__ import annotations

import asyncio

import pytest

from apps.realtime.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from apps.realtime.store import MemoryStore
from apps.realtime.topics import TopicError, parse_topic, validate_topics
from tests.realtime.conftest import run


def test_topics_are_validated_with_the_offending_index():
    assert parse_topic("wedding:12") == ("wedding", 12)
    assert validate_topics(["wedding:1", "supplier:2", "wedding:1"], 100) == [
        "wedding:1",
        "supplier:2",
    ]
    for bad, words in [
        (["wedding:0"], "topics[0]"),
        (["wedding:1", "venue:3"], "topics[1]"),
        (["wedding:1 "], "Malformed"),
        ([], "non-empty"),
        ("wedding:1", "non-empty list"),
        ([f"wedding:{i}" for i in range(1, 5)], "Too many"),
    ]:
        with pytest.raises(TopicError, match=words.replace("[", r"\[").replace("]", r"\]")):
            validate_topics(bad, 3)


def test_breaker_opens_after_consecutive_failures_and_probes_once():
    now = [0.0]
    changes = []
    breaker = CircuitBreaker(
        "redis",
        failures=3,
        reset_s=1.0,
        clock=lambda: now[0],
        on_change=lambda n, s: changes.append(s),
    )
    breaker.failure()
    breaker.success()  # a success in between resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.state == CLOSED and breaker.allow()
    breaker.failure()
    assert breaker.state == OPEN and not breaker.allow()
    now[0] = 1.5
    assert breaker.state == HALF_OPEN
    assert breaker.allow() is True  # the one probe
    assert breaker.allow() is False  # no second probe while it runs
    breaker.failure()  # probe failed: open again, for another pause
    assert breaker.state == OPEN
    now[0] = 2.0
    assert not breaker.allow()
    now[0] = 3.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == CLOSED and breaker.allow()
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]
    assert breaker.opened_total == 2


def test_memory_store_numbers_keeps_capped_history_and_detects_gaps():
    store = MemoryStore()
    assert store.publish_many([("wedding:1", '{"a":1}', 3, -1)]) == [-1]  # floor unknown
    seqs = store.publish_many([("wedding:1", f'{{"i":{i}}}', 3, 0) for i in range(5)])
    assert seqs == [1, 2, 3, 4, 5]
    history = run(store.histories({"wedding:1": 3}))["wedding:1"]
    assert history.current == 5 and not history.gap_after(3)
    assert [e.count('"seq":') for e in history.entries] == [1, 1]
    assert ['"seq":4' in history.entries[0], '"seq":5' in history.entries[1]] == [True, True]
    history = run(store.histories({"wedding:1": 1}))["wedding:1"]
    assert history.oldest == 3 and history.gap_after(1)
    assert not history.gap_after(2)


def test_memory_store_quota_leases_expire(settings, monkeypatch):
    monkeypatch.setenv("GATEWAY_LEASE_TTL", "0.2")
    store = MemoryStore()

    async def go():
        assert await store.acquire_lease(7, "a", 2)
        assert await store.acquire_lease(7, "b", 2)
        assert not await store.acquire_lease(7, "c", 2)
        await asyncio.sleep(0.3)
        assert await store.acquire_lease(7, "c", 2)  # a and b expired

    run(go())


@pytest.mark.django_db
def test_delivery_profile_follows_the_venue_and_wedding_day():
    from apps.realtime.delivery import delivery_for_topic
    from tests.realtime.conftest import make_world

    calm = make_world("Calm hall", venue_kwargs={"connectivity": "good", "batch_window_ms": 0})
    chapel = make_world("Chapel", venue_kwargs={"connectivity": "fair"})
    beach = make_world("Beach", venue_kwargs={"connectivity": "good", "degraded": True})
    live = make_world("Live now", venue_kwargs={"connectivity": "good"}, live=True)
    good = delivery_for_topic(f"wedding:{calm.weddings[0].pk}")
    fair = delivery_for_topic(f"wedding:{chapel.weddings[0].pk}")
    degraded = delivery_for_topic(f"wedding:{beach.weddings[0].pk}")
    today = delivery_for_topic(f"wedding:{live.weddings[0].pk}")
    assert good.batch_window_ms == 0 and fair.batch_window_ms > 0
    assert degraded.batch_window_ms > 0 and degraded.heartbeat_s < good.heartbeat_s
    assert today.wedding_day and not good.wedding_day
    assert today.heartbeat_s < good.heartbeat_s and today.replay > good.replay


@pytest.mark.django_db
def test_publish_then_health_report_and_collectors(admin_api):
    from apps.realtime.collectors import collect
    from apps.realtime.publish import publish
    from tests.realtime.conftest import make_world

    ctx = make_world("Reporter")
    topic = f"wedding:{ctx.weddings[0].pk}"
    first = publish(topic, {"a": 1})
    assert publish(topic, {"a": 2}) == first + 1
    response = admin_api.get("/api/v1/realtime/health/")
    assert response.status_code == 200
    body = response.json()
    for key in (
        "connections",
        "connections_per_supplier",
        "subscriptions",
        "messages_in_per_s",
        "messages_out_per_s",
        "latency_ms",
        "quota_rejections",
        "breakers",
        "replays_served",
    ):
        assert key in body
    names = {s["name"] for s in collect()}
    assert {
        "wedsync_gateway_connections",
        "wedsync_gateway_subscriptions",
        "wedsync_gateway_messages_in_per_s",
        "wedsync_gateway_messages_out_per_s",
        "wedsync_gateway_error_rate",
        "wedsync_gateway_breaker_open",
        "wedsync_gateway_quota_rejections_total",
    } <= names


@pytest.mark.django_db
def test_health_and_publish_refuse_the_wrong_callers(api_client):
    from tests.realtime.conftest import make_world

    ctx = make_world("Nosy")
    assert api_client.get("/api/v1/realtime/health/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {ctx.token}")
    assert api_client.get("/api/v1/realtime/health/").status_code == 403


def test_token_cache_remembers_valid_tokens_for_its_ttl_and_forgets_on_revocation(
    transactional_db,
):
    from apps.realtime.tokens import TokenCache
    from tests.realtime.conftest import make_world

    world = make_world()
    now = [100.0]
    cache = TokenCache(ttl_s=10, clock=lambda: now[0])
    assert cache.get(world.token) is None  # never seen
    grant = cache.load(world.token)
    assert grant.supplier_id == world.supplier.pk
    assert grant.wedding_ids == frozenset(w.pk for w in world.weddings)
    assert cache.get(world.token) == grant
    assert cache.load("wss_not-a-token") is None and cache.get("wss_not-a-token") is None
    now[0] += 10.5  # past the TTL: the database is asked again
    assert cache.get(world.token) is None
    cache.load(world.token)
    cache.forget_suppliers({world.supplier.pk + 1})  # someone else: kept
    assert cache.get(world.token) == grant
    cache.forget_suppliers({world.supplier.pk})
    assert cache.get(world.token) is None
    # A revocation landing while a load reads the database: that load's (possibly stale)
    # grant serves its own handshake but is not remembered.
    import apps.realtime.tokens as tokens_module

    real = tokens_module.authz.supplier_wedding_ids

    def revoked_meanwhile(supplier_id: int) -> frozenset[int]:
        cache.forget_suppliers({supplier_id})
        return real(supplier_id)

    tokens_module.authz.supplier_wedding_ids = revoked_meanwhile
    try:
        assert cache.load(world.token) is not None
    finally:
        tokens_module.authz.supplier_wedding_ids = real
    assert cache.get(world.token) is None
