"""Models for alerts that arrive Alertmanager-style (from Prometheus's alerting rules).

Imported by apps.alerts.models so Django registers them with the app.
"""

from __future__ import annotations

from django.db import models


class AlertRoute(models.Model):
    """Which escalation policy an incoming alert follows: the first enabled route (by
    order) whose matchers all equal the alert's labels (`alertname` included)."""

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    matchers = models.JSONField(default=dict, blank=True, help_text="Empty = every alert.")
    escalation_policy = models.ForeignKey(
        "alerts.EscalationPolicy", on_delete=models.PROTECT, related_name="+"
    )
    # While a wedding the labels point at is live (see apps.alerts.weddingday).
    wedding_day_escalation_policy = models.ForeignKey(
        "alerts.EscalationPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ExternalAlert(models.Model):
    """What the sender said of an alert beyond its labels: annotations, its own times."""

    alert = models.OneToOneField("alerts.Alert", on_delete=models.CASCADE, related_name="external")
    annotations = models.JSONField(default=dict, blank=True)
    generator_url = models.URLField(max_length=1000, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    # Past it the alert is resolved, unless the sender repeats it first.
    ends_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"external {self.alert_id} until {self.ends_at:%H:%M:%S}"
