"""Decide, record and actuate: the one write path for capacity changes."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.events import announce
from apps.scaling import actuators, conf, context, observe
from apps.scaling.models import Decision, Mode, PoolState, ScalingPolicy
from apps.scaling.policy import PolicyConfig, PolicyInputs, PoolSnapshot, decide

log = logging.getLogger(__name__)


def policy_config(policy: ScalingPolicy) -> PolicyConfig:
    return PolicyConfig(
        capacity_per_unit=policy.capacity_per_unit,
        min_units=policy.min_units,
        max_units=policy.effective_max_units,
        emergency_units=policy.effective_emergency_units,
        target_low=policy.target_utilisation_low,
        target_high=policy.target_utilisation_high,
        lead_time=timedelta(seconds=policy.lead_time_seconds),
        stabilisation=timedelta(seconds=policy.stabilisation_seconds),
    )


def tick_interval(at: datetime | None = None) -> int:
    """30 s normally, 15 s while any wedding is live (wedding-day mode)."""
    at = at or timezone.now()
    live = context.decision_context(at, timedelta(0)).live_at(at)
    return conf.tick_seconds_wedding_day() if live else conf.tick_seconds()


def tick_key(at: datetime, interval: int) -> int:
    return int(at.timestamp()) // interval * interval


def forecast_peak(
    policy: ScalingPolicy, now: datetime, ctx: context.DecisionContext | None = None
) -> tuple[float, dict]:
    """Highest forecast for the pool's metric within the lead time, and its parts."""
    lead = timedelta(seconds=policy.lead_time_seconds)
    ctx = ctx or context.decision_context(now, lead)
    peak = ctx.peak_within(now, now + lead)
    value = peak.connections if policy.pool == "web" else peak.messages_per_s
    return value, peak.as_dict()


# Kept here too: the API, page and collectors read the baseline through services.
cached_baselines = context.cached_baselines


def _freeze_refusal(now: datetime) -> str | None:
    from apps.weddings.freeze import FreezeError, check_freeze

    try:
        check_freeze("scale capacity down", at=now)
    except FreezeError as exc:
        return exc.message
    return None


def _relaxed_commit() -> None:
    """Do not wait for the WAL flush on commit (PostgreSQL only).

    A decision is re-made every 15-30 s; if the database crashed in the next few hundred
    milliseconds, losing that row costs nothing, while waiting for the disk on a busy
    machine costs most of the decision's time. Atomicity and ordering are unchanged.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _snapshot(state: PoolState) -> PoolSnapshot:
    recent = tuple(
        (datetime.fromtimestamp(ts, UTC), int(units)) for ts, units in state.recent_needs or []
    )
    return PoolSnapshot(state.current_units, state.low_since, recent)


def locked_state(policy: ScalingPolicy) -> PoolState:
    try:
        return PoolState.objects.select_for_update().get(pool=policy.pool)
    except PoolState.DoesNotExist:
        PoolState.objects.get_or_create(
            pool=policy.pool, defaults={"current_units": policy.baseline_units}
        )
        return PoolState.objects.select_for_update().get(pool=policy.pool)


def decide_pool(
    policy: ScalingPolicy,
    now: datetime | None = None,
    *,
    tick: int | None = None,
    load: float | None = None,
    observed: bool = True,
) -> Decision | None:
    """Decide for one pool and record it. None when this tick was already decided."""
    started = time.perf_counter()
    now = now or timezone.now()
    config = policy_config(policy)
    observe_now = observed and load is None
    ctx, emergency, raw, surge = context.decision_inputs(
        now,
        timedelta(seconds=policy.lead_time_seconds),
        observe.hash_key(policy.pool) if observe_now else None,
    )
    if observe_now:
        load = observe.current_load(policy.pool, raw=raw)
    peak, peak_parts = forecast_peak(policy, now, ctx)
    live = ctx.live_at(now)
    inputs = PolicyInputs(
        now=now,
        load=load,
        forecast_peak=peak,
        wedding_live=live,
        emergency=emergency is not None,
        surge_floor=surge.get(policy.pool),
    )
    shadow = policy.mode == Mode.SHADOW

    def record(state: PoolState) -> tuple[Decision, list]:
        """The decision row and the new scale-down bookkeeping, from a state snapshot."""
        nonlocal inputs
        result = decide(config, _snapshot(state), inputs)
        freeze = None
        if result.rule == "scale_down":
            # The calendar's freeze has the last word on a scale-down (a wedding may
            # have been registered since the cached context was built).
            freeze = _freeze_refusal(now)
            if freeze:
                inputs = replace(inputs, wedding_live=True)
                result = decide(config, _snapshot(state), inputs)
        decision = Decision(
            pool=policy.pool,
            tick=tick,
            decided_at=now,
            rule=result.rule,
            reason=result.reason,
            current_units=state.current_units,
            desired_units=result.desired_units,
            outcome=Decision.Outcome.SHADOW if shadow else Decision.Outcome.PENDING,
            inputs={
                "load": load,
                "forecast_peak": round(peak, 3),
                "forecast_parts": peak_parts,
                "wedding_live": inputs.wedding_live,
                "freeze": freeze,
                "emergency": emergency[0] if emergency else None,
                "surge_floor": inputs.surge_floor,
                "load_units": result.load_units,
                "forecast_units": result.forecast_units,
                "mode": policy.mode,
                "config": {
                    k: (v.total_seconds() if isinstance(v, timedelta) else v)
                    for k, v in asdict(config).items()
                },
            },
        )
        # Bookkeeping for scale-down moves on in shadow mode too; units change only once
        # an actuation succeeds (see actuate()).
        state.low_since = result.state.low_since
        recent = [[t.timestamp(), u] for t, u in result.state.recent_needs]
        return decision, recent

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _write_in_one_trip(policy, record, started)
    try:
        with transaction.atomic():
            _relaxed_commit()
            state = locked_state(policy)
            decision, recent = record(state)
            decision.duration_ms = (time.perf_counter() - started) * 1000
            decision.save()
            state.recent_needs = recent
            state.save(update_fields=["low_since", "recent_needs", "updated_at"])
    except IntegrityError:
        return None  # another worker decided this tick
    return decision


# One round trip for the whole write: the state row is updated only if nobody changed it
# since we read it and nobody decided this tick yet (the UPDATE's row lock serialises
# concurrent workers; the loser's WHERE no longer matches), and the decision is inserted
# only if that update happened. Either way the statement returns the state: the new one
# (to start the next decision from), or, when the WHERE did not match, the state as it
# is and whether the tick is already decided, so a retry needs no extra read.
# Not waiting for the WAL flush: see _relaxed_commit().
_ONE_TRIP_SQL = """
BEGIN;
SET LOCAL synchronous_commit TO OFF;
WITH s AS (
    UPDATE scaling_poolstate
       SET low_since = %(low_since)s, recent_needs = %(recent)s, updated_at = clock_timestamp()
     WHERE pool = %(pool)s AND updated_at = %(seen)s AND current_units = %(current)s
       AND NOT EXISTS (
           SELECT 1 FROM scaling_decision WHERE pool = %(pool)s AND tick = %(tick)s)
 RETURNING updated_at, current_units, low_since, recent_needs),
d AS (
INSERT INTO scaling_decision
       (pool, tick, decided_at, rule, reason, inputs, current_units, desired_units, outcome,
        actuation, error, duration_ms)
SELECT %(pool)s, %(tick)s, %(decided_at)s, %(rule)s, %(reason)s, %(inputs)s, %(current)s,
       %(desired)s, %(outcome)s, '[]'::jsonb, '', %(duration_ms)s
  FROM s
RETURNING id)
SELECT d.id, s.updated_at, s.current_units, s.low_since, s.recent_needs::text, false
  FROM d, s
UNION ALL
SELECT NULL, p.updated_at, p.current_units, p.low_since, p.recent_needs::text,
       EXISTS (SELECT 1 FROM scaling_decision WHERE pool = %(pool)s AND tick = %(tick)s)
  FROM scaling_poolstate p
 WHERE p.pool = %(pool)s AND NOT EXISTS (SELECT 1 FROM s);
COMMIT;
"""

# The pool state this process last wrote or read, per pool: (updated_at, current_units,
# low_since, recent_needs). A decision starts from it instead of reading the row; the
# write's WHERE (updated_at and current_units unchanged) rejects it if another worker or
# an actuation changed the row since, and then returns the row as it is.
_known_state: dict[str, tuple] = {}


def _remember_state(state: PoolState) -> None:
    _known_state[state.pool] = (
        state.updated_at,
        state.current_units,
        state.low_since,
        list(state.recent_needs or []),
    )


def _known(pool: str) -> PoolState | None:
    """A fresh PoolState built from the remembered row (record() mutates what it gets)."""
    known = _known_state.get(pool)
    if known is None:
        return None
    updated_at, current_units, low_since, recent = known
    return PoolState(
        pool=pool,
        current_units=current_units,
        low_since=low_since,
        recent_needs=list(recent),
        updated_at=updated_at,
    )


def _write_in_one_trip(policy: ScalingPolicy, record, started: float) -> Decision | None:
    from psycopg import ClientCursor
    from psycopg.errors import UniqueViolation
    from psycopg.types.json import Jsonb

    state = _known(policy.pool)
    for _ in range(5):
        if state is None:
            state = PoolState.objects.filter(pool=policy.pool).first()
        if state is None:
            PoolState.objects.get_or_create(
                pool=policy.pool, defaults={"current_units": policy.baseline_units}
            )
            continue
        seen = state.updated_at
        decision, recent = record(state)
        decision.duration_ms = (time.perf_counter() - started) * 1000
        connection.ensure_connection()
        raw = connection.connection
        try:
            with ClientCursor(raw) as cursor:
                cursor.execute(
                    _ONE_TRIP_SQL,
                    {
                        "low_since": state.low_since,
                        "recent": Jsonb(recent),
                        "pool": policy.pool,
                        "seen": seen,
                        "current": state.current_units,
                        "tick": decision.tick,
                        "decided_at": decision.decided_at,
                        "rule": decision.rule,
                        "reason": decision.reason,
                        "inputs": Jsonb(decision.inputs),
                        "desired": decision.desired_units,
                        "outcome": decision.outcome,
                        "duration_ms": decision.duration_ms,
                    },
                )
                row = None
                while True:  # BEGIN, SET, the statement, COMMIT: find the statement's row
                    if cursor.description is not None:
                        row = cursor.fetchone()
                    if not cursor.nextset():
                        break
        except Exception as exc:
            # A script that failed half-way leaves its transaction open: close it, or the
            # connection refuses everything after.
            _known_state.pop(policy.pool, None)
            with contextlib.suppress(Exception):  # a broken connection is closed anyway
                raw.execute("ROLLBACK")
            if isinstance(exc, UniqueViolation):
                return None  # another worker decided this tick
            raise
        if row is None:  # no state row (deleted meanwhile): create it, try again
            _known_state.pop(policy.pool, None)
            state = None
            continue
        inserted, updated_at, current_units, low_since, recent_needs, decided = row
        state = PoolState(
            pool=policy.pool,
            current_units=current_units,
            low_since=low_since,
            # As text: Django's connection leaves jsonb undecoded, so decode it ourselves.
            recent_needs=json.loads(recent_needs) if recent_needs else [],
            updated_at=updated_at,
        )
        _remember_state(state)
        if inserted is not None:
            decision.pk = inserted
            decision.actuation, decision.error = [], ""
            decision._state.adding = False
            return decision
        if decided:
            return None  # another worker decided this tick
        # The state changed under us (another decision or an actuation): the statement
        # returned it as it is now; decide again from it.
    raise RuntimeError(f"scaling {policy.pool}: pool state kept changing; decision not recorded")


def _needs_actuation(decision: Decision) -> bool:
    if decision.desired_units != decision.current_units:
        return True
    # Re-send after a failure: the previous decision may have left the world behind.
    previous = (
        Decision.objects.filter(pool=decision.pool, decided_at__lt=decision.decided_at)
        .exclude(outcome=Decision.Outcome.SHADOW)
        .order_by("-decided_at", "-id")
        .values_list("outcome", flat=True)
        .first()
    )
    return previous in (Decision.Outcome.FAILED, Decision.Outcome.PARTIAL)


def actuate(decision: Decision, policy: ScalingPolicy | None = None) -> Decision:
    """Apply a recorded decision through the pool's actuators; record every result."""
    if decision.outcome == Decision.Outcome.SHADOW:
        return decision
    policy = policy or ScalingPolicy.objects.get(pool=decision.pool)
    names = [n for n in (policy.actuators or conf.actuators_default()) if n != "gauges"]
    reports: list[actuators.ActuatorReport] = []
    if _needs_actuation(decision):
        order = actuators.Order(
            pool=decision.pool,
            desired_units=decision.desired_units,
            current_units=decision.current_units,
            decision_id=decision.pk,
            rule=decision.rule,
            reason=decision.reason,
            decided_at=decision.decided_at.isoformat(),
            webhook_url=policy.webhook_url,
            webhook_secret=policy.webhook_secret,
        )
        reports = [actuators.run_with_retry(name, order) for name in names]
    ok = [r for r in reports if r.ok]
    failed = [r for r in reports if not r.ok]
    if not failed:
        outcome = (
            Decision.Outcome.APPLIED
            if decision.desired_units != decision.current_units
            else Decision.Outcome.UNCHANGED
        )
    elif ok:
        outcome = Decision.Outcome.PARTIAL
    else:
        outcome = Decision.Outcome.FAILED
    with transaction.atomic():
        state = locked_state(policy)
        if not failed:
            if state.current_units != decision.desired_units:
                state.last_change_at = timezone.now()
            state.current_units = decision.desired_units
            state.save(update_fields=["current_units", "last_change_at", "updated_at"])
        decision.outcome = outcome
        decision.actuation = [r.as_dict() for r in reports]
        decision.error = "; ".join(f"{r.actuator}: {r.error}" for r in failed)
        decision.save(update_fields=["outcome", "actuation", "error"])
        current = state.current_units
    if not connection.in_atomic_block:  # committed: the next decision can start from it
        _remember_state(state)
    if "gauges" in (policy.actuators or conf.actuators_default()):
        actuators.set_gauges(decision.pool, decision.desired_units, current)
    if failed:
        log.error("scaling %s: actuation %s: %s", decision.pool, outcome, decision.error)
    _push(decision)
    return decision


def _push(decision: Decision) -> None:
    # After commit: a decision rolled back with its transaction is never shown.
    announce(
        "scaling",
        {
            "op": "scaling",
            "decision": {
                "id": decision.pk,
                "pool": decision.pool,
                "rule": decision.rule,
                "current_units": decision.current_units,
                "desired_units": decision.desired_units,
                "outcome": decision.outcome,
                "error": decision.error,
            },
        }
    )


def run_tick(now: datetime | None = None) -> list[Decision]:
    """One periodic tick: at most one decision per pool per tick key, across workers."""
    now = now or timezone.now()
    key = tick_key(now, tick_interval(now))
    done = []
    for policy in ScalingPolicy.objects.filter(enabled=True):
        decision = decide_pool(policy, now, tick=key)
        if decision is not None:
            done.append(actuate(decision, policy))
    return done


def refresh_forecast_context(now: datetime | None = None) -> int:
    """Periodic: rebuild the cached forecast contexts the decisions read."""
    now = now or timezone.now()
    leads = [
        timedelta(seconds=s)
        for s in ScalingPolicy.objects.filter(enabled=True).values_list(
            "lead_time_seconds", flat=True
        )
    ]
    return context.refresh_context(now, leads)
