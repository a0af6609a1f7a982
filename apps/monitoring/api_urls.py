"""REST API routes of the monitoring app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.monitoring import api

router = SimpleRouter(trailing_slash=True)
router.register("scrape-targets", api.ScrapeTargetViewSet, basename="scrape-target")

urlpatterns = [
    path("metrics/", api.MetricsIngestView.as_view(), name="metrics-ingest"),
    path("metrics/query/", api.MetricsQueryView.as_view(), name="metrics-query"),
    path("metrics/names/", api.MetricNamesView.as_view(), name="metrics-names"),
    *router.urls,
]
