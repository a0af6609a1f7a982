"""Emergency capacity: the alerts app's emergency playbooks call this."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.scaling.models import Decision, EmergencyCapacity, ScalingPolicy

log = logging.getLogger(__name__)


def request_emergency_capacity(reason: str, until: datetime | None = None) -> list[Decision]:
    """Jump every enabled pool to its emergency capacity at once.

    Records the request (active until `until`, or until ended) and one decision per pool
    with rule "emergency"; actuation runs after the caller's transaction commits (so a
    rolled-back emergency never scales). Returns the decisions, one per pool.
    """
    from apps.scaling import services

    reason = (reason or "").strip()
    if not reason:
        raise ValueError("reason: an emergency capacity request needs a reason")
    now = timezone.now()
    if until is not None and until <= now:
        raise ValueError("until: must be in the future")
    with transaction.atomic():
        EmergencyCapacity.objects.create(reason=reason[:500], requested_at=now, until=until)
        decisions = []
        for policy in ScalingPolicy.objects.filter(enabled=True):
            decision = services.decide_pool(policy, now)
            if decision is not None:
                decisions.append(decision)
    for decision in decisions:
        transaction.on_commit(lambda d=decision: _actuate_later(d.pk))
    return decisions


def end_emergency(at: datetime | None = None) -> int:
    """End every active emergency; normal rules (stabilisation, freeze) take over."""
    at = at or timezone.now()
    return EmergencyCapacity.active(at).update(ended_at=at)


def _actuate_later(decision_id: int) -> None:
    from apps.scaling.tasks import actuate_decision

    try:
        actuate_decision.delay(decision_id)
    except Exception:  # broker away: an emergency must not wait for it, apply here
        log.warning("broker unavailable; actuating emergency decision %s inline", decision_id)
        actuate_decision.apply(args=[decision_id])
