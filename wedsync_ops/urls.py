from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.accounts import views as account_views
from apps.core.forms import use_safe_json_fields
from apps.monitoring.otlp_api import OTLPMetricsView
from wedsync_ops import views

api_v1 = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.weddings.api_urls")),
    path("", include("apps.monitoring.api_urls")),
    path("", include("apps.alerts.api_urls")),
    path("", include("apps.dashboards.api_urls")),
    path("", include("apps.realtime.api_urls")),
    path("", include("apps.caching.api_urls")),
    path("", include("apps.scaling.api_urls")),
    path("", include("apps.statuspages.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): our CSP
    # allows no inline script, and the plain view's inline one left the page blank.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include(api_v1)),
    path("prometheus/", include("apps.monitoring.prom_urls")),
    path("alertmanager/", include("apps.alerts.alertmanager_urls")),
    path("otlp/v1/metrics", OTLPMetricsView.as_view(), name="otlp-metrics"),
    path("calendar/", include("apps.weddings.urls")),
    path("monitor/", include("apps.monitoring.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("dashboards/", include("apps.dashboards.urls")),
    path("realtime/", include("apps.realtime.urls")),
    path("cache/", include("apps.caching.urls")),
    path("scaling/", include("apps.scaling.urls")),
    path("status/", include("apps.statuspages.urls")),
    path("status-pages/", include("apps.statuspages.console_urls")),
]

admin.site.site_header = "WedSync Ops administration"
admin.site.site_title = "WedSync Ops"
use_safe_json_fields(admin.site)
