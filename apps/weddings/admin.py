"""Django admin for the calendar; the wedding-day freeze applies here as in the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect

from apps.weddings import models
from apps.weddings.freeze import FreezeError, check_freeze
from apps.weddings.live import is_any_wedding_live, live_weddings
from apps.weddings.services import check_overlap, check_times

REASON_HELP = (
    "Needed only during the wedding-day freeze (a wedding is live): why this change cannot "
    "wait. Admins only; recorded in the freeze audit log."
)


class FreezeFormMixin:
    """A change form that runs check_freeze() when the edit is a risky one."""

    request_user = None

    def risky_changes(self, data: dict) -> list[str]:
        return []

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.errors:
            risky = self.risky_changes(data)
            if risky:
                try:
                    check_freeze(
                        "; ".join(risky),
                        user=self.request_user,
                        override_reason=data.get("freeze_override_reason"),
                    )
                except FreezeError as exc:
                    raise ValidationError(exc.message) from exc
        return data


class FreezeAdminMixin:
    """Deleting is refused while a wedding is live, unless an admin gives a reason."""

    delete_confirmation_template = "admin/weddings/freeze_delete_confirmation.html"

    def delete_is_frozen(self, obj) -> bool:
        return is_any_wedding_live()

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if is_any_wedding_live():  # bulk delete has no place for a reason: off while live
            actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.delete_is_frozen(obj):
            return super().delete_view(request, object_id, extra_context)
        extra_context = {**(extra_context or {}), "freeze_live": list(live_weddings()[:10])}
        if request.method != "POST" or not request.POST.get("post"):
            return super().delete_view(request, object_id, extra_context)
        with transaction.atomic():
            try:
                check_freeze(
                    f"delete {obj._meta.verbose_name} {obj}",
                    user=request.user,
                    override_reason=request.POST.get("freeze_override_reason"),
                )
            except FreezeError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(request.path)
            return super().delete_view(request, object_id, extra_context)


class SupplierForm(FreezeFormMixin, forms.ModelForm):
    freeze_override_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP
    )

    class Meta:
        model = models.Supplier
        fields = [
            "name",
            "kind",
            "contact_email",
            "webhook_url",
            "max_connections",
            "max_messages_per_second",
            "max_channels_per_connection",
            "is_active",
        ]

    def risky_changes(self, data: dict) -> list[str]:
        old = models.Supplier.objects.get(pk=self.instance.pk)
        risky = []
        new_max = data.get("max_connections")
        if new_max is not None and new_max < old.max_connections:
            risky.append(
                f"lower max_connections of {old.name} from {old.max_connections} to {new_max}"
            )
        if old.is_active and data.get("is_active") is False:
            risky.append(f"disable supplier {old.name}")
        return risky


@admin.register(models.Supplier)
class SupplierAdmin(FreezeAdminMixin, admin.ModelAdmin):
    form = SupplierForm
    list_display = ["name", "kind", "max_connections", "is_active", "token_hint", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "contact_email"]
    readonly_fields = ["token_hint", "created_at"]
    actions = ["rotate_tokens"]

    @admin.action(description="Rotate gateway tokens (new tokens shown once)")
    def rotate_tokens(self, request, queryset):
        for supplier in queryset:
            token = supplier.issue_token()
            messages.warning(request, f"{supplier.name}: new token {token} (shown once)")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            token = obj.issue_token()
            messages.warning(request, f"{obj.name}: gateway token {token} (shown once)")


class RegionMonthInline(admin.TabularInline):
    model = models.RegionMonth
    extra = 0
    max_num = 12


@admin.register(models.Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone"]
    search_fields = ["code", "name"]
    inlines = [RegionMonthInline]


@admin.register(models.Venue)
class VenueAdmin(FreezeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "venue_type", "region", "timezone", "connectivity", "degraded"]
    list_filter = ["venue_type", "region", "connectivity", "degraded"]
    search_fields = ["name", "address"]


class WeddingSupplierInline(admin.TabularInline):
    model = models.Wedding.suppliers.through
    extra = 1
    verbose_name = "supplier"
    verbose_name_plural = "suppliers"
    autocomplete_fields = ["supplier"]

    class Media:
        # Hides the auto-created M2M row's "Wedding_suppliers object (n)" caption.
        css = {"all": ["weddings/admin.css"]}


class WeddingForm(FreezeFormMixin, forms.ModelForm):
    freeze_override_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP
    )

    class Meta:
        model = models.Wedding
        # Suppliers are edited in the inline (WeddingSupplierInline).
        fields = [
            "date",
            "ceremony_time",
            "reception_end_time",
            "venue",
            "couple_name",
            "expected_guests",
            "status",
        ]

    def validate_unique(self) -> None:
        # Runs once the form's values are on the instance: admin gets the same time and
        # overlap rules as the API (one service function behind both).
        super().validate_unique()
        wedding = self.instance
        times = (wedding.date, wedding.ceremony_time, wedding.reception_end_time)
        if wedding.venue_id and all(times):
            try:
                check_times(wedding)
                check_overlap(wedding)
            except ValidationError as exc:
                self.add_error(None, exc)

    def risky_changes(self, data: dict) -> list[str]:
        if data.get("status") != models.Wedding.Status.CANCELLED:
            return []
        if live_weddings().filter(pk=self.instance.pk).exists():
            return [f"cancel live wedding {self.instance.couple_name} (#{self.instance.pk})"]
        return []


@admin.register(models.Wedding)
class WeddingAdmin(FreezeAdminMixin, admin.ModelAdmin):
    form = WeddingForm
    list_display = [
        "couple_name",
        "date",
        "ceremony_time",
        "venue",
        "status",
        "expected_guests",
        "expected_connections",
    ]
    list_filter = ["status", "venue__venue_type", "venue__region", "date"]
    search_fields = ["couple_name", "venue__name", "suppliers__name"]
    date_hierarchy = "date"
    list_select_related = ["venue"]
    autocomplete_fields = ["venue"]
    readonly_fields = ["starts_utc", "ends_utc", "expected_connections", "derivation"]
    inlines = [WeddingSupplierInline]

    @admin.display(description="Starts (UTC)")
    def starts_utc(self, obj) -> str:
        return f"{obj.starts_at:%Y-%m-%d %H:%M} UTC" if obj.starts_at else "—"

    @admin.display(description="Ends (UTC)")
    def ends_utc(self, obj) -> str:
        return f"{obj.ends_at:%Y-%m-%d %H:%M} UTC" if obj.ends_at else "—"

    @admin.display(description="How expected connections were derived")
    def derivation(self, obj) -> str:
        return obj.connection_estimate().explanation if obj.pk else "—"

    def delete_is_frozen(self, obj) -> bool:
        return live_weddings().filter(pk=obj.pk).exists()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Inline rows are saved through the M2M table directly: no m2m_changed signal.
        form.instance.refresh_expected_connections()


@admin.register(models.EmergencyContact)
class EmergencyContactAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "email", "phone", "wedding", "venue", "order"]
    list_filter = ["role"]
    search_fields = ["name", "email", "phone"]
    autocomplete_fields = ["wedding", "venue"]


@admin.register(models.FreezeOverride)
class FreezeOverrideAdmin(admin.ModelAdmin):
    """The audit log: read-only."""

    list_display = ["at", "username", "action", "reason"]
    search_fields = ["username", "action", "reason"]
    date_hierarchy = "at"
    readonly_fields = ["at", "action", "user", "username", "reason", "live_weddings"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
