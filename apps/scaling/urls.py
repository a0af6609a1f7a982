"""Pages of the scaling app."""

from django.urls import path

from apps.scaling import views

app_name = "scaling"
urlpatterns = [path("", views.overview, name="overview")]
