"""Celery tasks: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from apps.scaling import services
from apps.scaling.models import Decision


@shared_task(name="scaling.tick", ignore_result=True)
def tick() -> int:
    """Runs every 15 s; decides on a 30 s grid (15 s in wedding-day mode), once per tick."""
    return len(services.run_tick())


@shared_task(name="scaling.actuate", ignore_result=True)
def actuate_decision(decision_id: int) -> str:
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None or decision.outcome != Decision.Outcome.PENDING:
        return "skipped"  # already applied by another delivery of this task
    return services.actuate(decision).outcome


@shared_task(name="scaling.refresh_forecast", ignore_result=True)
def refresh_forecast() -> int:
    """Keeps the decisions' forecast context fresh (bulk calendar edits send no signal)."""
    return services.refresh_forecast_context()
