"""Alertmanager-compatible routes, mounted under /alertmanager/ (Prometheus's path_prefix)."""

from django.urls import path

from apps.alerts.alertmanager_api import AlertsView

urlpatterns = [path("api/v2/alerts", AlertsView.as_view(), name="alertmanager-alerts")]
