"""REST API routes of the status pages, mounted under /api/v1/."""

from django.urls import path

from apps.statuspages import api

urlpatterns = [
    path("weddings/<int:pk>/status-page/", api.StatusPageView.as_view(), name="status-page"),
    path(
        "weddings/<int:pk>/status-page/subscribers/",
        api.SubscribersView.as_view(),
        name="status-page-subscribers",
    ),
    path(
        "incidents/<int:pk>/public-updates/",
        api.PublicUpdateView.as_view(),
        name="incident-public-updates",
    ),
]
