"""Public pages (mounted at /status/): no account, the token is the capability."""

from django.urls import path

from apps.statuspages import views

app_name = "statuspages"
urlpatterns = [
    path("confirm/<str:signed>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:signed>/", views.unsubscribe, name="unsubscribe"),
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/summary.json", views.summary_json, name="summary"),
    path("<str:token>/subscribe/", views.subscribe, name="subscribe"),
]
