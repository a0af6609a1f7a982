"""Pages of the caching app."""

from django.urls import path

from apps.caching import views

app_name = "caching"
urlpatterns = [path("", views.cache_page, name="index")]
