"""Pages of the weddings app (mounted at /calendar/)."""

from django.urls import path

from apps.weddings import views

app_name = "weddings"
urlpatterns = [path("", views.calendar, name="calendar")]
