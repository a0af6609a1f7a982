"""REST API routes of the dashboards app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.dashboards.api import DashboardViewSet, WidgetViewSet, dashboard_data

router = DefaultRouter(trailing_slash=True)
router.register("dashboards", DashboardViewSet, basename="dashboard")
router.register("dashboard-widgets", WidgetViewSet, basename="dashboard-widget")

urlpatterns = [
    # Before the router's own route for the same action: served off the shared thread.
    path("dashboards/<slug:slug>/data/", dashboard_data, name="dashboard-data-worker"),
    *router.urls,
]
