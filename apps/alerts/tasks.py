"""Celery tasks: thin, idempotent wrappers around the alerts services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="alerts.periodic_pass", ignore_result=True)
def periodic_pass() -> int:
    """Time-based transitions and no-data rules, then the outbox sweeps."""
    from apps.alerts import alertmanager, engine, escalation, notify

    events = engine.periodic_pass()
    alertmanager.expire()
    escalation.sweep_overdue()
    notify.sweep()
    return len(events)


@shared_task(name="alerts.escalation_step", ignore_result=True)
def escalation_step(alert_id: int, episode: int, level: int, repeat: int) -> str:
    from apps.alerts.escalation import run_step

    return run_step(alert_id, episode, level, repeat)


@shared_task(name="alerts.resolved_notice", ignore_result=True)
def resolved_notice(alert_id: int, episode: int) -> int:
    from apps.alerts.escalation import send_resolved

    return send_resolved(alert_id, episode)


@shared_task(name="alerts.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    from apps.alerts.notify import deliver

    return deliver(notification_id)


@shared_task(name="alerts.emergency_from_alert", ignore_result=True)
def emergency_from_alert(alert_id: int, episode: int) -> int | None:
    from apps.alerts.emergencies import trigger_from_alert

    incident = trigger_from_alert(alert_id, episode)
    return incident.pk if incident else None


@shared_task(name="alerts.quota_budget", ignore_result=True)
def quota_budget() -> int:
    """Warn suppliers whose quota will not hold their coming weddings (48 h and 2 h ahead)."""
    from apps.alerts.quota_budget import warn_suppliers

    return warn_suppliers()
