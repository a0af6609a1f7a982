"""REST API routes of the alerts app, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from apps.alerts import api

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

urlpatterns = [*router.urls]
