"""Pages of the alerts app."""

from django.urls import path

from apps.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("silences/", views.silences, name="silences"),
    path("incidents/", views.incidents, name="incidents"),
    path("channels/", views.channels, name="channels"),
    path("<int:pk>/", views.alert_detail, name="detail"),
]
