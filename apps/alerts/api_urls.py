"""REST API routes of the alerts app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.alerts import api, api_context

router = DefaultRouter(trailing_slash=True)
router.register("alert-rules", api.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", api.AlertViewSet, basename="alert")
router.register("silences", api.SilenceViewSet, basename="silence")
router.register("maintenance-windows", api.MaintenanceWindowViewSet, basename="maintenance-window")
router.register(
    "notification-channels", api.NotificationChannelViewSet, basename="notification-channel"
)
router.register("escalation-policies", api.EscalationPolicyViewSet, basename="escalation-policy")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("incidents", api.IncidentViewSet, basename="incident")

urlpatterns = [
    # Before the router: `silences/preview/` would otherwise read as a silence's id.
    path("silences/preview/", api_context.SilencePreviewView.as_view(), name="silence-preview"),
    path("weddings-at-risk/", api_context.AtRiskView.as_view(), name="weddings-at-risk"),
    path("alert-labels/", api_context.LabelCatalogView.as_view(), name="alert-labels"),
    path("quota-budget/", api_context.QuotaBudgetView.as_view(), name="quota-budget"),
    *router.urls,
]
