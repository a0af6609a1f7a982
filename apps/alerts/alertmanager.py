"""Alerts in, Alertmanager-style: what Prometheus's `alerting.alertmanagers` sends.

Each alert becomes one of our alerts: one external rule per `alertname`, one alert per
label set (deduplicated by fingerprint), firing while its endsAt is ahead, resolved when
the sender says so (a past endsAt) or when it stops repeating it (the resolve timeout).
State changes take the engine's own path (_transition: row lock, history, live push,
escalation, resolved notices), so silences, maintenance windows, acknowledgement and the
dashboards treat these alerts like any other. The escalation policy comes from the first
matching AlertRoute, with its wedding-day policy while a wedding the labels name is live.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.alerts import conf
from apps.alerts.engine import Outcome, _transition, to_dt
from apps.alerts.models import (
    Alert,
    AlertRoute,
    AlertRule,
    AlertState,
    ExternalAlert,
    fingerprint,
    labels_match,
)
from apps.alerts.weddingday import live_context

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: "not set"
SEVERITIES = {"info", "warning", "critical"}


class IntakeError(ValueError):
    def __init__(self, message: str, errors: list[dict]):
        super().__init__(message)
        self.errors = errors


@dataclass
class Incoming:
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""


def _time(raw, index: int, name: str, errors: list) -> datetime | None:
    if raw in (None, "", ZERO_TIME):
        return None
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None or parsed.tzinfo is None:
        errors.append({"index": index, "field": name, "message": "must be an RFC 3339 time"})
    return parsed


def _strings(value, index: int, name: str, errors: list) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        errors.append({"index": index, "field": name, "message": "must map strings to strings"})
        return {}
    return value


def parse(payload) -> list[Incoming]:
    """The postableAlerts body, or IntakeError naming each bad alert (nothing is applied)."""
    if not isinstance(payload, list):
        raise IntakeError("body must be a JSON array of alerts", [])
    errors: list[dict] = []
    out = []
    for index, item in enumerate(payload):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": "alert", "message": "must be an object"})
            continue
        labels = dict(_strings(item.get("labels"), index, "labels", errors))
        name = labels.pop("alertname", "")
        if not name:
            errors.append({"index": index, "field": "labels.alertname", "message": "is required"})
        annotations = _strings(item.get("annotations"), index, "annotations", errors)
        starts = _time(item.get("startsAt"), index, "startsAt", errors)
        ends = _time(item.get("endsAt"), index, "endsAt", errors)
        url = item.get("generatorURL") or ""
        if not isinstance(url, str) or len(url) > 1000:
            errors.append({"index": index, "field": "generatorURL", "message": "must be a URL"})
            url = ""
        out.append(Incoming(name, labels, annotations, starts, ends, url))
    if errors:
        bad = len({e["index"] for e in errors})
        raise IntakeError(f"{bad} of {len(payload)} alerts are invalid; none was applied", errors)
    return out


def external_rule(alertname: str, labels: dict[str, str]) -> AlertRule:
    """The rule an incoming alertname belongs to (made on first sight)."""
    severity = labels.get("severity", "warning")
    defaults = {
        "kind": AlertRule.Kind.EXTERNAL,
        "metric": "ALERTS",  # the series Prometheus keeps of its alerts
        "severity": severity if severity in SEVERITIES else "warning",
        "description": "Sent by an Alertmanager client (a Prometheus alerting rule).",
    }
    rule, _ = AlertRule.objects.get_or_create(name=alertname, defaults=defaults)
    if rule.kind != AlertRule.Kind.EXTERNAL:  # one of our own rules has that name
        rule, _ = AlertRule.objects.get_or_create(name=f"{alertname} (external)", defaults=defaults)
    return rule


class _Router:
    def __init__(self, now: datetime):
        self.now = now
        self.routes = list(
            AlertRoute.objects.filter(enabled=True).select_related(
                "escalation_policy", "wedding_day_escalation_policy"
            )
        )
        self._live = None

    def route(self, rule: AlertRule, labels: dict) -> tuple[AlertRule, bool]:
        """The rule as escalation should see it (its policy from the route), wedding day."""
        full = {**labels, "alertname": rule.name}
        for route in self.routes:
            if not labels_match(route.matchers, full):
                continue
            policy, wedding_day = route.escalation_policy, False
            if route.wedding_day_escalation_policy is not None:
                if self._live is None:
                    self._live = live_context(self.now)
                if self._live.applies(labels):
                    policy, wedding_day = route.wedding_day_escalation_policy, True
            # An in-memory copy: escalation.begin snapshots alert.rule.escalation_policy,
            # and the route decides it per label set, not per rule.
            routed = copy.copy(rule)
            routed.escalation_policy = policy
            return routed, wedding_day
        return rule, False


def receive(alerts: list[Incoming], now: float | None = None) -> int:
    """Apply a parsed batch; returns how many alerts changed state."""
    now = time.time() if now is None else now
    now_dt = to_dt(now)
    router = _Router(now_dt)
    timeout = timedelta(seconds=conf.ALERTMANAGER_RESOLVE_TIMEOUT_SECONDS)
    changed = 0
    for incoming in alerts:
        rule = external_rule(incoming.alertname, incoming.labels)
        ends_at = incoming.ends_at or now_dt + timeout
        firing = ends_at > now_dt
        fp = fingerprint(incoming.labels)
        routed, wedding_day = router.route(rule, incoming.labels) if firing else (rule, False)
        note = "sent by Prometheus" + (" (wedding-day escalation)" if wedding_day else "")
        outcome = Outcome(routed, fp, incoming.labels, firing, None, None, wedding_day, note)
        with transaction.atomic():
            if _transition(outcome, now, now_dt):
                changed += 1
            alert = Alert.objects.filter(rule=rule, fingerprint=fp).first()
            if alert is not None:
                ExternalAlert.objects.update_or_create(
                    alert=alert,
                    defaults={
                        "annotations": incoming.annotations,
                        "generator_url": incoming.generator_url,
                        "starts_at": incoming.starts_at,
                        "ends_at": ends_at,
                    },
                )
    return changed


def expire(now: float | None = None) -> int:
    """Resolve firing external alerts whose endsAt has passed (the sender went quiet)."""
    now = time.time() if now is None else now
    now_dt = to_dt(now)
    overdue = ExternalAlert.objects.filter(
        ends_at__lte=now_dt, alert__state__in=[AlertState.FIRING, AlertState.PENDING]
    ).select_related("alert__rule")
    changed = 0
    for ext in overdue:
        alert = ext.alert
        outcome = Outcome(
            alert.rule, alert.fingerprint, alert.labels, False, None, None, note="endsAt passed"
        )
        if _transition(outcome, now, now_dt):
            changed += 1
    return changed


def active(now: datetime | None = None) -> list[Alert]:
    now = now or timezone.now()
    return list(
        Alert.objects.filter(
            rule__kind=AlertRule.Kind.EXTERNAL,
            state__in=[AlertState.FIRING, AlertState.PENDING],
        ).select_related("rule", "external")
    )
