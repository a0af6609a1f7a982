"""Dashboards and their widgets, laid out in a 12-column grid."""

from __future__ import annotations

from django.conf import settings
from django.db import models

GRID_COLUMNS = 12
MAX_HEIGHT = 8


class TimeRange(models.TextChoices):
    M15 = "15m", "Last 15 minutes"
    H1 = "1h", "Last hour"
    H6 = "6h", "Last 6 hours"
    H24 = "24h", "Last 24 hours"
    D7 = "7d", "Last 7 days"


RANGE_SECONDS = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400}


class Dashboard(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dashboards",
    )
    # Shared dashboards are seen (and edited) by every operator; private ones by the owner only.
    shared = models.BooleanField(default=True)
    default_range = models.CharField(max_length=4, choices=TimeRange.choices, default="1h")
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WidgetKind(models.TextChoices):
    METRIC = "metric", "Metric (number + sparkline)"
    CHART = "chart", "Chart (time series)"
    ALERT = "alert", "Active alerts"
    STATUS = "status", "Service status"


class Widget(models.Model):
    """One tile. `queries` is a list of {name, matchers, agg}; `thresholds` is
    {warn, crit, direction: "above"|"below"}; `options` holds kind-specific extras."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    kind = models.CharField(max_length=10, choices=WidgetKind.choices)
    title = models.CharField(max_length=120)
    queries = models.JSONField(default=list, blank=True)
    thresholds = models.JSONField(default=dict, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    options = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in the grid, lowest first.")
    width = models.PositiveSmallIntegerField(default=4, help_text="Columns of 12.")
    height = models.PositiveSmallIntegerField(default=2, help_text="Rows (about 110 px each).")

    class Meta:
        ordering = ["dashboard", "position", "id"]

    def __str__(self) -> str:
        return f"{self.dashboard.slug}: {self.title}"


class DashboardVersion(models.Model):
    """The whole dashboard (its export document) after one change, numbered from 1.

    Shared dashboards are edited by every operator: a removed widget must be one click
    from coming back, as Grafana's dashboard versions are."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dashboard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "number"], name="dashboard_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.dashboard.slug} v{self.number}"
