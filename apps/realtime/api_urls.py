"""REST API routes of the realtime app, mounted under /api/v1/."""

from django.urls import path

from apps.realtime import api

urlpatterns = [
    path("realtime/publish/", api.PublishView.as_view(), name="realtime-publish"),
    path("realtime/health/", api.HealthView.as_view(), name="realtime-health"),
]
