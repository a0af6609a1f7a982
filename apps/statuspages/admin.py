"""Django admin: links are read-only here (issue and revoke through links.py, like the API)."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.statuspages import links
from apps.statuspages.models import Delivery, PublicUpdate, StatusLink, Subscriber


@admin.register(StatusLink)
class StatusLinkAdmin(admin.ModelAdmin):
    list_display = ("wedding", "created_at", "created_by", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("wedding", "created_at", "created_by", "revoked_at", "revoked_by")
    exclude = ("token_hash",)
    actions = ["revoke_links"]

    def has_add_permission(self, request) -> bool:
        return False  # a token is shown once: issue it from the console or the API

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected links' weddings' links")
    def revoke_links(self, request, queryset) -> None:
        total = sum(links.revoke(link.wedding, request.user) for link in queryset)
        self.message_user(request, f"Revoked {total} link(s).", messages.SUCCESS)


@admin.register(PublicUpdate)
class PublicUpdateAdmin(admin.ModelAdmin):
    list_display = ("incident", "status", "created_at", "created_by")
    readonly_fields = ("incident", "status", "body", "created_at", "created_by")

    def has_add_permission(self, request) -> bool:
        return False  # posted through incidents.post_update (console or API)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("wedding", "kind", "target", "confirmed_at", "last_sent_at")
    list_filter = ("kind",)
    readonly_fields = ("wedding", "kind", "target", "confirmed_at", "cursor", "last_sent_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("at", "subscriber", "kind", "subject", "changes", "status")
    list_filter = ("status", "kind")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
