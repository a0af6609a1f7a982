"""Shared, cached inputs of a decision: the learnt baseline and the next hours' forecast.

A decision runs every 15-30 s on any worker; re-reading seasons, venues and weddings each
time costs more round trips than the decision itself. The derived inputs live in the
shared cache (Redis in the full stack) under a version that any calendar change bumps
(signals in apps.py), with a short TTL as the bound for bulk edits that send no signal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from apps.scaling import calendar_source, conf, forecast

log = logging.getLogger(__name__)

# A periodic job (refresh_context, every 60 s) rewrites the context, so bulk calendar edits
# that send no signal are seen within a minute; decisions only read it.
CONTEXT_TTL_SECONDS = 3600 + 300


def _key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "scaling", *map(str, parts)])


def calendar_version() -> int:
    return cache.get(_key("calendar-version")) or 0


def decision_inputs(now: datetime, lead: timedelta, observed_hash: str | None = None):
    """(context, active emergency, observed-load hash, surge floors) usually in one Redis
    round trip
    (the hot path): the calendar version, the emergency, the context stamp and, when
    `observed_hash` names one, the observed-load hash (apps.scaling.observe) are read in
    one pipeline; the context itself comes from this process's copy while the stamp
    says the shared one has not changed. The hash is None when it was not read."""
    version_key, emergency_key, stamp_key = (
        _key("calendar-version"),
        _key("emergency"),
        _key("context-stamp"),
    )
    got, observed = _read_shared([version_key, emergency_key, stamp_key], observed_hash)
    # No stamp (never refreshed yet, or Redis lost its keys): no local copy is trusted.
    ctx = decision_context(now, lead, version=got.get(version_key) or 0, stamp=got.get(stamp_key))
    facts = emergency_facts(now, cached=got.get(emergency_key))
    return ctx, active_emergency(now, cached=facts), observed, facts["surge"]


def _read_shared(keys: list[str], observed_hash: str | None) -> tuple[dict, dict | None]:
    """Cache values of `keys` and the raw hash `observed_hash`, in one pipeline when the
    cache is django-redis on the same Redis (the full stack), else as two reads."""
    client = getattr(cache, "client", None)
    if observed_hash and settings.REDIS_URL and hasattr(client, "decode"):
        try:
            pipe = client.get_client(write=False).pipeline(transaction=False)
            pipe.mget([client.make_key(key) for key in keys])
            pipe.hgetall(observed_hash)
            values, observed = pipe.execute()
            got = {k: client.decode(v) for k, v in zip(keys, values, strict=True) if v is not None}
            return got, observed
        except Exception:  # a Redis blip: the separate reads below degrade as they always did
            log.debug("scaling: pipelined read of the decision inputs failed", exc_info=True)
    return cache.get_many(keys), None


def bump_calendar_version(**_: object) -> None:
    """Signal receiver: a wedding, venue, region or season changed."""
    key = _key("calendar-version")
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def cached_baselines(at: datetime) -> forecast.Baselines:
    """The 168-hour baseline is costly to learn and changes slowly: share it via the cache."""
    key = _key("baselines", calendar_version(), int(at.timestamp()) // 3600)
    found = cache.get(key)
    if found is None:
        found = forecast.Baselines.learn(at)
        cache.set(key, found, conf.baseline_cache_seconds())
    return found


@dataclass(frozen=True)
class DecisionContext:
    points: list[forecast.ForecastPoint]  # hourly, from the hour containing the decision
    windows: list[tuple[datetime, datetime]]  # live windows of weddings in those hours

    def live_at(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.windows)

    def peak_within(self, start: datetime, end: datetime) -> forecast.ForecastPoint:
        return forecast.peak_within(self.points, start, end)


def _context_key(start: datetime, hours: int, version: int | None = None) -> str:
    version = calendar_version() if version is None else version
    return _key("context", version, hours, int(start.timestamp()))


def build_context(now: datetime, hours: int) -> DecisionContext:
    start = forecast.hour_floor(now)
    weddings = calendar_source.weddings_between(start, start + hours * forecast.HOUR)
    points = forecast.hourly(start, hours, baselines=cached_baselines(now), weddings=weddings)
    return DecisionContext(points, [(w.start, w.end) for w in weddings])


def _hours_for(lead: timedelta) -> int:
    return int(lead.total_seconds() // 3600) + 2


# Contexts this process already read, by cache key: (stamp when read, context). Reading
# one from Redis costs a round trip and an unpickle per decision; the key already names
# the calendar version and the hour, and the stamp (bumped by the refresh job after it
# stored a context that differs) says whether the shared copy was rewritten since.
_local_contexts: dict[str, tuple[int, DecisionContext]] = {}
_LOCAL_CONTEXTS_MAX = 16


def decision_context(
    now: datetime, lead: timedelta, version: int | None = None, stamp: int | None = None
) -> DecisionContext:
    """The forecast hours a decision at `now` with this lead time needs (cached per hour).

    With `stamp` (the context stamp read in the same round trip as the version), a copy
    this process read under the same stamp is used without asking the cache."""
    hours = _hours_for(lead)
    key = _context_key(forecast.hour_floor(now), hours, version)
    if stamp is not None:
        local = _local_contexts.get(key)
        if local is not None and local[0] == stamp:
            return local[1]
    found = cache.get(key)
    if found is None:  # the refresh job had not run yet this hour
        found = build_context(now, hours)
        cache.set(key, found, CONTEXT_TTL_SECONDS)
    if stamp is not None:
        if len(_local_contexts) >= _LOCAL_CONTEXTS_MAX:
            _local_contexts.clear()  # old hours and versions: never asked for again
        _local_contexts[key] = (stamp, found)
    return found


def refresh_context(now: datetime, leads: list[timedelta]) -> int:
    """Rebuild the contexts for this hour and the next (periodic job); returns how many.

    When a rebuilt context differs from the stored one (a bulk edit that sent no signal),
    the context stamp is bumped after it is stored, so processes drop their copies."""
    written = 0
    changed = False
    for hours in sorted({_hours_for(lead) for lead in leads} | {2}):
        for at in (now, forecast.hour_floor(now) + forecast.HOUR):
            key = _context_key(forecast.hour_floor(at), hours)
            built = build_context(at, hours)
            changed = changed or cache.get(key) != built
            cache.set(key, built, CONTEXT_TTL_SECONDS)
            written += 1
    if changed:
        stamp_key = _key("context-stamp")
        try:
            cache.incr(stamp_key)
        except ValueError:
            cache.set(stamp_key, 1, None)
    return written


# --- the active emergency, read by every decision ---------------------------------------

# How long after an emergency its surge is remembered (see surge_floors).
SURGE_MEMORY = timedelta(hours=6)


def emergency_facts(now: datetime, cached: object = None) -> dict:
    """{"active": (reason, until) | None, "surge": {pool: units before the surge}};
    cached until an emergency request changes (saves and deletes clear the key)."""
    key = _key("emergency")
    found = cached if cached is not None else cache.get(key)
    if not isinstance(found, dict):  # not cached yet (or cached by an older release)
        found = _read_emergency_facts(now)
        # Never cache what a transaction may still roll back; the short TTL is a safety
        # net (and bounds how late a surge is noticed after an emergency runs out).
        if not connection.in_atomic_block:
            cache.set(key, found, 60)
    return found


def _read_emergency_facts(now: datetime) -> dict:
    from apps.scaling.models import EmergencyCapacity

    row = EmergencyCapacity.active(now).order_by("-requested_at").first()
    if row is not None:
        return {"active": (row.reason, row.until), "surge": {}}
    return {"active": None, "surge": surge_floors(now)}


def surge_floors(now: datetime) -> dict[str, int]:
    """{pool: units it ran before the latest emergency}, once that emergency is over.

    A pool above this is still carrying emergency capacity: the policy may bring it back
    down (never below need) even during the wedding-day freeze (rule end_surge)."""
    from apps.scaling.models import Decision, EmergencyCapacity

    last = EmergencyCapacity.objects.filter(requested_at__lte=now).order_by("-requested_at")
    last = last.first()
    if last is None:
        return {}
    ended = last.ended_at or last.until
    if ended is None or ended > now or now - ended > SURGE_MEMORY:
        return {}
    floors: dict[str, int] = {}
    rows = (
        Decision.objects.filter(rule="emergency", decided_at__gte=last.requested_at)
        .filter(decided_at__lte=ended)
        .order_by("decided_at", "id")
        .values_list("pool", "current_units")
    )
    for pool, units in rows:
        floors.setdefault(pool, units)
    return floors


def active_emergency(now: datetime, cached: object = None) -> tuple[str, datetime | None] | None:
    """(reason, until) of the newest active emergency, or None."""
    facts = cached if isinstance(cached, dict) else emergency_facts(now, cached)
    if facts["active"] is None:
        return None
    reason, until = facts["active"]
    if until is not None and until <= now:
        return None
    return reason, until


def forget_emergency(**_: object) -> None:
    key = _key("emergency")
    cache.delete(key)
    if connection.in_atomic_block:  # and again once the change is visible to others
        transaction.on_commit(lambda: cache.delete(key))
