"""Alerts out, Alertmanager-style: the webhook payload (version "4") that every existing
Alertmanager webhook receiver understands, built from one of our notifications."""

from __future__ import annotations

from apps.alerts import conf
from apps.alerts.models import Alert, Notification

ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(value: str | None) -> str:
    return value.replace("+00:00", "Z") if value else ZERO_TIME


def webhook_payload(n: Notification) -> dict:
    event = n.payload.get("alert") or {}
    status = "resolved" if n.kind == Notification.Kind.RESOLVED else "firing"
    name = event.get("rule_name") or n.subject
    labels = {**(event.get("labels") or {}), "alertname": name}
    if event.get("severity"):
        labels.setdefault("severity", event["severity"])
    annotations = {"summary": n.subject}
    if n.payload.get("text"):
        annotations["description"] = n.payload["text"]
    if event.get("runbook_url"):
        annotations["runbook_url"] = event["runbook_url"]
    alert = Alert.objects.filter(pk=event.get("id")).select_related("external").first()
    external = getattr(alert, "external", None) if alert else None
    if external is not None:
        annotations = {**annotations, **external.annotations}
    url = f"{conf.PUBLIC_URL}/alerts/{event.get('id')}/" if event.get("id") else conf.PUBLIC_URL
    ends = event.get("resolved_at") if status == "resolved" else None
    item = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _iso(event.get("fired_at") or event.get("started_at")),
        "endsAt": _iso(ends),
        "generatorURL": (external.generator_url if external and external.generator_url else url),
        "fingerprint": (alert.fingerprint if alert else "0" * 16)[:16],
    }
    group_labels = {"alertname": name}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="' + name.replace('"', '\\"') + '"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": n.channel.name if n.channel else "wedsync",
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": conf.PUBLIC_URL,
        "alerts": [item],
    }
