"""API shapes of the calendar. Writes of weddings go through services.save_wedding."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.fields import SlugRelatedField, TimezoneField
from apps.weddings import live, profiles
from apps.weddings.models import (
    EmergencyContact,
    Region,
    RegionMonth,
    Supplier,
    Venue,
    Wedding,
)
from apps.weddings.services import save_wedding


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "15:30",
        "description": "Local wall-clock time at the venue, HH:MM[:SS], no offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day with no offset (OpenAPI's `format: time` would demand one)."""


def _drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


class SupplierSerializer(serializers.ModelSerializer):
    override_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Admins: why a quota may be lowered during the wedding-day freeze.",
    )

    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "kind",
            "contact_email",
            "webhook_url",
            "max_connections",
            "max_messages_per_second",
            "max_channels_per_connection",
            "is_active",
            "token_hint",
            "created_at",
            "override_reason",
        ]
        read_only_fields = ["token_hint", "created_at"]

    def validate_max_connections(self, value: int) -> int:
        if value < 1:
            raise serializers.ValidationError("Must be at least 1.")
        return value


class SupplierCreatedSerializer(SupplierSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; only its hash is kept.")

    class Meta(SupplierSerializer.Meta):
        fields = [*SupplierSerializer.Meta.fields, "token"]


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField(help_text="Shown once; only its hash is kept.")
    token_hint = serializers.CharField()


class RegionMonthSerializer(serializers.ModelSerializer):
    month = serializers.IntegerField(min_value=1, max_value=12)

    class Meta:
        model = RegionMonth
        fields = ["month", "season", "multiplier"]


class RegionSerializer(serializers.ModelSerializer):
    months = RegionMonthSerializer(many=True, required=False)
    timezone = TimezoneField()

    class Meta:
        model = Region
        fields = ["id", "code", "name", "timezone", "months"]

    def validate_months(self, months: list[dict]) -> list[dict]:
        # A PATCH makes nested rows partial too; a month row is only meaningful whole.
        for i, row in enumerate(months):
            missing = [f for f in ("month", "season", "multiplier") if f not in row]
            if missing:
                raise serializers.ValidationError(f"Row {i} lacks {', '.join(missing)}.")
        seen = [m["month"] for m in months]
        dupes = sorted({m for m in seen if seen.count(m) > 1})
        if dupes:
            raise serializers.ValidationError(f"Month(s) given twice: {dupes}.")
        return months

    @transaction.atomic
    def create(self, validated: dict) -> Region:
        months = validated.pop("months", [])
        region = Region.objects.create(**validated)
        RegionMonth.objects.bulk_create(RegionMonth(region=region, **m) for m in months)
        return region

    @transaction.atomic
    def update(self, region: Region, validated: dict) -> Region:
        months = validated.pop("months", None)
        region = super().update(region, validated)
        for m in months or []:  # the months given replace those rows; others stay
            RegionMonth.objects.update_or_create(region=region, month=m["month"], defaults=m)
        return region


class VenueSerializer(serializers.ModelSerializer):
    region = SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    timezone = TimezoneField()
    profile = serializers.SerializerMethodField(
        help_text="The delivery profile the gateway applies (type defaults + overrides)."
    )

    class Meta:
        model = Venue
        fields = [
            "id",
            "name",
            "venue_type",
            "region",
            "timezone",
            "address",
            "capacity",
            "connectivity",
            "heartbeat_seconds",
            "batch_window_ms",
            "compression",
            "replay_buffer",
            "reconnect_backoff_ms",
            "degraded",
            "profile",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "connectivity": {"type": "string"},
                "heartbeat_seconds": {"type": "integer"},
                "batch_window_ms": {"type": "integer"},
                "compression": {"type": "boolean"},
                "replay_buffer": {"type": "integer"},
                "reconnect_backoff_ms": {"type": "integer"},
            },
        }
    )
    def get_profile(self, venue: Venue) -> dict:
        return profiles.profile_for_venue(venue).as_dict()

    def update(self, venue: Venue, validated: dict) -> Venue:
        try:
            return super().update(venue, validated)
        except DjangoValidationError as exc:  # a timezone fix that would make an overlap
            raise _drf_error(exc) from exc


class WeddingSerializer(serializers.ModelSerializer):
    venue = serializers.PrimaryKeyRelatedField(queryset=Venue.objects.select_related("region"))
    suppliers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Supplier.objects.all(), required=False
    )
    ceremony_time = LocalTimeField()
    reception_end_time = LocalTimeField(
        help_text="Local time at the venue; earlier than the ceremony means after midnight."
    )
    expected_guests = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    venue_name = serializers.CharField(source="venue.name", read_only=True)
    venue_type = serializers.CharField(source="venue.venue_type", read_only=True)
    region = serializers.CharField(source="venue.region.code", read_only=True)
    timezone = serializers.CharField(source="venue.timezone", read_only=True)
    expected_connections_explained = serializers.SerializerMethodField()
    live_from = serializers.SerializerMethodField()
    live_until = serializers.SerializerMethodField()

    class Meta:
        model = Wedding
        fields = [
            "id",
            "date",
            "ceremony_time",
            "reception_end_time",
            "venue",
            "venue_name",
            "venue_type",
            "region",
            "timezone",
            "couple_name",
            "suppliers",
            "expected_guests",
            "expected_connections",
            "expected_connections_explained",
            "status",
            "starts_at",
            "ends_at",
            "live_from",
            "live_until",
        ]
        read_only_fields = ["expected_connections", "starts_at", "ends_at"]

    def get_expected_connections_explained(self, wedding: Wedding) -> str:
        suppliers = len(wedding.suppliers.all())  # prefetched in the list view
        return wedding.connection_estimate(suppliers=suppliers).explanation

    @extend_schema_field(serializers.DateTimeField())
    def get_live_from(self, wedding: Wedding) -> str:
        return serializers.DateTimeField().to_representation(live.live_window(wedding)[0])

    @extend_schema_field(serializers.DateTimeField())
    def get_live_until(self, wedding: Wedding) -> str:
        return serializers.DateTimeField().to_representation(live.live_window(wedding)[1])

    def _save(self, instance: Wedding | None, validated: dict) -> Wedding:
        suppliers = validated.pop("suppliers", None)
        try:
            return save_wedding(instance, suppliers=suppliers, **validated)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc

    def create(self, validated: dict) -> Wedding:
        return self._save(None, validated)

    def update(self, instance: Wedding, validated: dict) -> Wedding:
        return self._save(instance, validated)


class EmergencyContactSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()

    class Meta:
        model = EmergencyContact
        fields = [
            "id",
            "name",
            "role",
            "email",
            "phone",
            "webhook_url",
            "wedding",
            "venue",
            "order",
            "scope",
        ]

    def get_scope(self, contact: EmergencyContact) -> str:
        if contact.wedding_id:
            return "wedding"
        return "venue" if contact.venue_id else "platform"

    def validate(self, attrs: dict) -> dict:
        wedding = attrs.get("wedding", getattr(self.instance, "wedding", None))
        venue = attrs.get("venue", getattr(self.instance, "venue", None))
        if wedding and venue:
            raise serializers.ValidationError(
                {"venue": ["A contact belongs to a wedding, a venue, or neither (platform)."]}
            )
        email = attrs.get("email", getattr(self.instance, "email", ""))
        phone = attrs.get("phone", getattr(self.instance, "phone", ""))
        hook = attrs.get("webhook_url", getattr(self.instance, "webhook_url", ""))
        if not (email or phone or hook):
            raise serializers.ValidationError(
                {"email": ["Give at least one of email, phone or webhook_url."]}
            )
        return attrs
