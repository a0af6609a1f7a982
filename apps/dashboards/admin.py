from django.contrib import admin

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


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    list_display = ["title", "dashboard", "kind", "position", "width", "height"]
    list_filter = ["kind", "dashboard"]
    search_fields = ["title"]
