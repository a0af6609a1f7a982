from django.contrib import admin

from apps.weddings import models


@admin.register(models.Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "max_connections", "is_active", "token_hint"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "contact_email"]


class RegionMonthInline(admin.TabularInline):
    model = models.RegionMonth
    extra = 0


@admin.register(models.Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone"]
    inlines = [RegionMonthInline]


@admin.register(models.Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "venue_type", "region", "timezone", "connectivity"]
    list_filter = ["venue_type", "region", "connectivity"]
    search_fields = ["name", "address"]


@admin.register(models.Wedding)
class WeddingAdmin(admin.ModelAdmin):
    list_display = ["couple_name", "date", "venue", "status", "expected_guests"]
    list_filter = ["status", "venue__venue_type", "venue__region"]
    search_fields = ["couple_name", "venue__name"]
    date_hierarchy = "date"
    filter_horizontal = ["suppliers"]


@admin.register(models.EmergencyContact)
class EmergencyContactAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "email", "phone", "wedding", "venue", "order"]
    search_fields = ["name", "email"]
