"""Pages of the realtime app."""

from django.urls import path

from apps.realtime import views

app_name = "realtime"
urlpatterns = [path("", views.gateway_page, name="gateway")]
