"""Pages of the dashboards app."""

from django.urls import path

from apps.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard_list, name="list"),
    path("<slug:slug>/", views.dashboard_detail, name="detail"),
]
