"""REST API routes of the scaling app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.scaling import api

router = DefaultRouter(trailing_slash=True)
router.register("scaling/policies", api.ScalingPolicyViewSet, basename="scaling-policy")
router.register("scaling/decisions", api.DecisionViewSet, basename="scaling-decision")
router.register("scaling/emergency", api.EmergencyViewSet, basename="scaling-emergency")

urlpatterns = [
    path("scaling/forecast/", api.forecast_view, name="scaling-forecast"),
    path("scaling/emergency/end/", api.end_emergency_view, name="scaling-emergency-end"),
    *router.urls,
]
