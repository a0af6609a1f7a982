"""REST API routes of the dashboards app, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from apps.dashboards.api import DashboardViewSet, WidgetViewSet

router = DefaultRouter(trailing_slash=True)
router.register("dashboards", DashboardViewSet, basename="dashboard")
router.register("dashboard-widgets", WidgetViewSet, basename="dashboard-widget")

urlpatterns = [*router.urls]
