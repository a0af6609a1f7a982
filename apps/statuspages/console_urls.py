"""Operators' console pages (mounted at /status-pages/)."""

from django.urls import path

from apps.statuspages import console_views

app_name = "statuspages-console"
urlpatterns = [
    path("", console_views.board, name="board"),
    path("updates/", console_views.post_update, name="post-update"),
    path("wedding/<int:pk>/", console_views.wedding, name="wedding"),
    path("wedding/<int:pk>/action/", console_views.wedding_action, name="wedding-action"),
]
