"""REST API routes of the caching app, mounted under /api/v1/."""

from django.urls import path

from apps.caching.api import CacheStatsView

urlpatterns = [path("cache/stats/", CacheStatsView.as_view(), name="cache-stats")]
