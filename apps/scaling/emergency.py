"""Emergency capacity: the alerts app's emergency playbooks call this."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.scaling.models import Decision, EmergencyCapacity, ScalingPolicy

log = logging.getLogger(__name__)


def request_emergency_capacity(reason: str, until: datetime | None = None) -> dict:
    """Jump every enabled pool to its emergency capacity at once.

    Records the request (active until `until`, or until ended) and one decision per pool
    with rule "emergency"; actuation runs after the caller's transaction commits (so a
    rolled-back emergency never scales). Returns the decision as plain JSON-safe data
    (callers store it in their timelines):
    {"emergency_id", "reason", "until", "decisions": [{"id", "pool", "rule",
    "current_units", "desired_units"}, ...]}.
    """
    from apps.scaling import services

    reason = (reason or "").strip()
    if not reason:
        raise ValueError("reason: an emergency capacity request needs a reason")
    now = timezone.now()
    if until is not None and until <= now:
        raise ValueError("until: must be in the future")
    with transaction.atomic():
        request = EmergencyCapacity.objects.create(
            reason=reason[:500], requested_at=now, until=until
        )
        decisions = []
        for policy in ScalingPolicy.objects.filter(enabled=True):
            decision = services.decide_pool(policy, now)
            if decision is not None:
                decisions.append(decision)
    for decision in decisions:
        transaction.on_commit(lambda d=decision: _actuate_later(d.pk))
    return {
        "emergency_id": request.pk,
        "reason": request.reason,
        "until": until.isoformat() if until else None,
        "decisions": [summary(d) for d in decisions],
    }


def summary(decision: Decision) -> dict:
    return {
        "id": decision.pk,
        "pool": decision.pool,
        "rule": decision.rule,
        "current_units": decision.current_units,
        "desired_units": decision.desired_units,
    }


def end_emergency(at: datetime | None = None) -> int:
    """End every active emergency; normal rules (stabilisation, freeze) take over."""
    from apps.scaling.context import forget_emergency

    at = at or timezone.now()
    ended = EmergencyCapacity.active(at).update(ended_at=at)
    forget_emergency()
    return ended


def end_requests(ids: list[int], at: datetime | None = None) -> int:
    """End these emergency requests (an incident's, when it is resolved); returns how many
    were still active. The next decision brings the pools back down (rule end_surge)."""
    from apps.scaling.context import forget_emergency

    at = at or timezone.now()
    ended = EmergencyCapacity.active(at).filter(pk__in=ids).update(ended_at=at)
    forget_emergency()
    return ended


def _actuate_later(decision_id: int) -> None:
    from apps.scaling.tasks import actuate_decision

    try:
        actuate_decision.delay(decision_id)
    except Exception:  # broker away: an emergency must not wait for it, apply here
        log.warning("broker unavailable; actuating emergency decision %s inline", decision_id)
        actuate_decision.apply(args=[decision_id])
