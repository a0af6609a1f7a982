from django.contrib import admin

from apps.dashboards import versions
from apps.dashboards.models import Dashboard, Widget


class WidgetInline(admin.TabularInline):
    model = Widget
    extra = 0
    fields = [
        "position",
        "kind",
        "title",
        "width",
        "height",
        "queries",
        "thresholds",
        "unit",
        "options",
    ]


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "shared", "default_range", "updated_at"]
    list_filter = ["shared", "default_range"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WidgetInline]

    # Changes made here are versions too (restorable from the dashboard's page).
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        versions.changed(form.instance, request.user, "changed in Django admin")


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    list_display = ["title", "dashboard", "kind", "position", "width", "height"]
    list_filter = ["kind", "dashboard"]
    search_fields = ["title"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        versions.changed(obj.dashboard, request.user, f"widget saved in Django admin: {obj.title}")

    def delete_model(self, request, obj):
        dashboard = obj.dashboard
        super().delete_model(request, obj)
        versions.changed(dashboard, request.user, f"widget deleted in Django admin: {obj.title}")
