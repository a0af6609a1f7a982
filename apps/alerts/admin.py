from django.contrib import admin

from apps.alerts import models


@admin.register(models.AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "metric",
        "aggregation",
        "comparator",
        "threshold",
        "wedding_day_threshold",
        "for_seconds",
        "severity",
        "enabled",
    ]
    list_filter = ["severity", "enabled", "kind", "aggregation"]
    search_fields = ["name", "metric"]


class TransitionInline(admin.TabularInline):
    model = models.AlertTransition
    extra = 0
    can_delete = False
    readonly_fields = ["episode", "from_state", "to_state", "at", "value", "note", "actor"]


@admin.register(models.Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "labels", "state", "value", "fired_at", "acknowledged_by"]
    list_filter = ["state", "rule__severity"]
    readonly_fields = [f.name for f in models.Alert._meta.fields]
    inlines = [TransitionInline]


@admin.register(models.Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ["matchers", "starts_at", "ends_at", "created_by", "reason"]


@admin.register(models.MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "start_time", "duration_minutes", "weekdays", "enabled"]


@admin.register(models.NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "target", "enabled"]


class LevelInline(admin.TabularInline):
    model = models.EscalationLevel
    extra = 1
    filter_horizontal = ["channels"]


@admin.register(models.EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    inlines = [LevelInline]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["key", "kind", "channel_kind", "target", "status", "attempts", "created_at"]
    list_filter = ["status", "kind", "channel_kind"]
    search_fields = ["key", "target", "subject"]


class IncidentEventInline(admin.TabularInline):
    model = models.IncidentEvent
    extra = 0
    readonly_fields = ["at", "kind", "message", "data"]


@admin.register(models.Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "emergency_type", "status", "venue", "created_at"]
    list_filter = ["status", "emergency_type"]
    inlines = [IncidentEventInline]
