from django.contrib import admin

from apps.monitoring.models import ScrapeTarget, Series


@admin.register(ScrapeTarget)
class ScrapeTargetAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "url",
        "interval_seconds",
        "enabled",
        "last_scrape_at",
        "samples_last_scrape",
        "last_error",
    ]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "last_scrape_at",
        "last_error",
        "samples_last_scrape",
        "last_duration_ms",
        "next_scrape_at",
    ]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    """Read-only: series are created by ingest; deleting one would orphan its samples."""

    list_display = ["name", "labels", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["name", "labels", "key", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
