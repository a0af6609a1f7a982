"""Pages of the monitoring app."""

from django.urls import path

from apps.monitoring import views

app_name = "monitoring"
urlpatterns = [path("", views.explorer, name="explorer")]
