"""REST API routes of the weddings app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.weddings import api

router = DefaultRouter(trailing_slash=True)
router.register("suppliers", api.SupplierViewSet, basename="supplier")
router.register("regions", api.RegionViewSet, basename="region")
router.register("venues", api.VenueViewSet, basename="venue")
router.register("weddings", api.WeddingViewSet, basename="wedding")
router.register("contacts", api.EmergencyContactViewSet, basename="contact")

urlpatterns = [
    path("insights/", api.InsightsView.as_view(), name="insights"),
    *router.urls,
]
