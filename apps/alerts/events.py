"""What the alerts app announces (apps.core.events): alerts and incidents as the ops pages
and the API show them. Below the engine, escalation and emergencies, so each can build
its events without importing the others."""

from __future__ import annotations

from datetime import datetime

from apps.alerts.evaluation import measure_words
from apps.alerts.models import Alert, Incident
from apps.core.events import announce


def alert_event(alert: Alert) -> dict:
    """The alert as pushed on /ws/ops/ (the same fields as the API)."""

    def iso(dt: datetime | None) -> str | None:
        return dt.isoformat() if dt else None

    rule = alert.rule
    return {
        "id": alert.pk,
        "rule": rule.pk,
        "rule_name": rule.name,
        "severity": rule.severity,
        "runbook_url": rule.runbook_url,
        "state": alert.state,
        "episode": alert.episode,
        "value": alert.value,
        "threshold": alert.threshold,
        "comparator": rule.comparator,
        "measure": measure_words(rule.aggregation, rule.window_seconds),
        "wedding_day": alert.wedding_day,
        "labels": alert.labels,
        "started_at": iso(alert.started_at),
        "fired_at": iso(alert.fired_at),
        "resolved_at": iso(alert.resolved_at),
        "acknowledged": alert.acknowledged_at is not None,
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "acknowledged_at": iso(alert.acknowledged_at),
        "ack_comment": alert.ack_comment,
    }


def incident_event(incident: Incident) -> dict:
    return {
        "op": "incident",
        "incident": {
            "id": incident.pk,
            "emergency_type": incident.emergency_type,
            "title": incident.title,
            "status": incident.status,
            "venue": incident.venue_id,
            "wedding": incident.wedding_id,
            "alert": incident.alert_id,
            "created_at": incident.created_at.isoformat() if incident.created_at else None,
        },
    }


def announce_alert(alert: Alert) -> dict:
    """Announce the alert's new state after commit; returns the event."""
    event = {"op": "alert", "alert": alert_event(alert)}
    announce("alert", event)
    return event


def announce_incident(incident: Incident) -> None:
    announce("incident", incident_event(incident))
