from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.accounts import views as account_views
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
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include(api_v1)),
    path("calendar/", include("apps.weddings.urls")),
    path("monitor/", include("apps.monitoring.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("dashboards/", include("apps.dashboards.urls")),
    path("realtime/", include("apps.realtime.urls")),
    path("cache/", include("apps.caching.urls")),
    path("scaling/", include("apps.scaling.urls")),
]

admin.site.site_header = "WedSync Ops administration"
admin.site.site_title = "WedSync Ops"
