from django.contrib import admin, messages

from apps.scaling import emergency
from apps.scaling.models import Decision, EmergencyCapacity, PoolState, ScalingPolicy


@admin.register(ScalingPolicy)
class ScalingPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "pool",
        "mode",
        "enabled",
        "capacity_per_unit",
        "baseline_units",
        "min_units",
        "effective_max_units",
        "actuators",
    ]
    list_editable = ["mode", "enabled"]
    fieldsets = [
        (None, {"fields": ["pool", "mode", "enabled", "actuators"]}),
        (
            "Capacity",
            {
                "fields": [
                    "capacity_per_unit",
                    "baseline_units",
                    "min_units",
                    "max_units",
                    "emergency_units",
                    "target_utilisation_low",
                    "target_utilisation_high",
                    "cost_per_unit_hour",
                ]
            },
        ),
        ("Timing", {"fields": ["lead_time_seconds", "stabilisation_seconds"]}),
        ("Webhook", {"fields": ["webhook_url", "webhook_secret"]}),
    ]


@admin.register(PoolState)
class PoolStateAdmin(admin.ModelAdmin):
    list_display = ["pool", "current_units", "low_since", "last_change_at"]
    readonly_fields = ["low_since", "recent_needs", "last_change_at", "updated_at"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = [
        "decided_at",
        "pool",
        "rule",
        "current_units",
        "desired_units",
        "outcome",
        "duration_ms",
    ]
    list_filter = ["pool", "rule", "outcome"]
    date_hierarchy = "decided_at"
    search_fields = ["reason", "error"]

    def has_add_permission(self, request) -> bool:
        return False  # decisions are made by the policy, never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmergencyCapacity)
class EmergencyCapacityAdmin(admin.ModelAdmin):
    list_display = ["reason", "requested_at", "until", "ended_at"]
    actions = ["end_now"]

    @admin.action(description="End these emergencies now")
    def end_now(self, request, queryset) -> None:
        from django.utils import timezone

        from apps.scaling.context import forget_emergency

        ended = queryset.filter(ended_at__isnull=True).update(ended_at=timezone.now())
        forget_emergency()
        messages.info(request, f"Ended {ended} emergency request(s).")

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # New requests go through the one write path, so pools jump at once.
        emergency.request_emergency_capacity(obj.reason, obj.until)
