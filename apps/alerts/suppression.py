"""Silences and maintenance windows: they mute notifications, never evaluation."""

from __future__ import annotations

from datetime import datetime

from apps.alerts.models import MaintenanceWindow, Silence, labels_match


def alert_labels(rule, labels: dict) -> dict:
    """The labels silences match on: the series' own plus `alertname` and `severity`."""
    return {**labels, "alertname": rule.name, "severity": rule.severity}


class Suppressions:
    """Active silences and maintenance windows at one instant, loaded once."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.silences = list(Silence.objects.filter(starts_at__lte=at, ends_at__gt=at))
        self.windows = [
            w for w in MaintenanceWindow.objects.filter(enabled=True) if w.active_at(at)
        ]

    def reason(self, rule, labels: dict) -> str | None:
        full = alert_labels(rule, labels)
        for silence in self.silences:
            if labels_match(silence.matchers, full):
                return f"silence #{silence.pk} ({silence.reason})"
        for window in self.windows:
            if labels_match(window.matchers, full):
                return f"maintenance window “{window.name}”"
        return None


def suppressed_by(rule, labels: dict, at: datetime) -> str | None:
    return Suppressions(at).reason(rule, labels)
