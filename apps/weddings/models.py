"""The wedding calendar: suppliers, regions and seasons, venues, weddings, contacts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    # available_timezones() walks the tz database on every call.
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(f"Unknown IANA timezone: {value!r}.")


class Supplier(models.Model):
    """A tenant of the realtime gateway (photographer, planner, caterer, venue...)."""

    TOKEN_PREFIX = "wss_"

    class Kind(models.TextChoices):
        PHOTOGRAPHER = "photographer"
        PLANNER = "planner"
        CATERER = "caterer"
        VENUE = "venue"
        OTHER = "other"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    contact_email = models.EmailField(blank=True)
    # Where the supplier hears about its own quota (the budget warnings before a busy day).
    webhook_url = models.URLField(blank=True)
    # Only a hash is stored; the token is shown once when issued.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    token_hint = models.CharField(max_length=12, blank=True, editable=False)
    max_connections = models.PositiveIntegerField(default=250, validators=[MinValueValidator(1)])
    max_messages_per_second = models.PositiveIntegerField(default=50)
    max_channels_per_connection = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue_token(self) -> str:
        """Create (or rotate) the gateway token; returns it once, stores only its hash."""
        token = self.TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.token_hash = self.hash_token(token)
        self.token_hint = token[:10]
        self.save(update_fields=["token_hash", "token_hint"])
        return token

    @classmethod
    def authenticate(cls, token: str) -> Supplier | None:
        if not token or not token.startswith(cls.TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = cls.hash_token(token)
        supplier = cls.objects.filter(token_hash=digest, is_active=True).first()
        if supplier and hmac.compare_digest(supplier.token_hash, digest):
            return supplier
        return None


class Region(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Season(models.TextChoices):
    PEAK = "peak"
    SHOULDER = "shoulder"
    OFF = "off"


class RegionMonth(models.Model):
    """One row per region and month: which season it is and its load multiplier."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="months")
    month = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    season = models.CharField(max_length=10, choices=Season.choices)
    multiplier = models.FloatField(validators=[MinValueValidator(0.0)])

    class Meta:
        ordering = ["region", "month"]
        constraints = [
            models.UniqueConstraint(fields=["region", "month"], name="region_month_unique"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="region_month_in_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region.code} {self.month}: {self.season} ×{self.multiplier}"


class VenueType(models.TextChoices):
    OUTDOOR = "outdoor"
    CHURCH = "church"
    BANQUET_HALL = "banquet_hall"
    BEACH = "beach"
    GARDEN = "garden"
    HISTORIC = "historic"


class Connectivity(models.TextChoices):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class Venue(models.Model):
    name = models.CharField(max_length=200)
    venue_type = models.CharField(max_length=20, choices=VenueType.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="venues")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    address = models.CharField(max_length=300, blank=True)
    capacity = models.PositiveIntegerField(default=150)
    # Connectivity profile: blank fields fall back to the venue type's defaults
    # (apps.weddings.profiles).
    connectivity = models.CharField(max_length=8, choices=Connectivity.choices, blank=True)
    heartbeat_seconds = models.PositiveIntegerField(null=True, blank=True)
    batch_window_ms = models.PositiveIntegerField(null=True, blank=True)
    compression = models.BooleanField(null=True, blank=True)
    replay_buffer = models.PositiveIntegerField(null=True, blank=True)
    reconnect_backoff_ms = models.PositiveIntegerField(null=True, blank=True)
    # Set by an emergency (venue network failure): the gateway applies the degraded profile.
    degraded = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from django.db import transaction

        old_tz = None
        if self.pk:
            old_tz = Venue.objects.filter(pk=self.pk).values_list("timezone", flat=True).first()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_tz and old_tz != self.timezone:
                self.move_weddings_to_timezone()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def move_weddings_to_timezone(self) -> None:
        """The timezone was corrected: local times stay, their UTC instants move.

        Row by row, in the order that keeps neighbours apart (latest first when moving
        later), so the overlap constraint never sees a half-moved venue. Raises
        ValidationError on `timezone` if the new zone makes two weddings overlap.
        """
        from django.db import IntegrityError

        weddings = list(self.weddings.all())
        shift = timedelta(0)
        for wedding in weddings:
            before = wedding.starts_at
            wedding.venue = self
            wedding.compute_instants()
            shift += wedding.starts_at - before
        weddings.sort(key=lambda w: w.starts_at, reverse=shift > timedelta(0))
        try:
            for wedding in weddings:
                Wedding.objects.filter(pk=wedding.pk).update(
                    starts_at=wedding.starts_at, ends_at=wedding.ends_at
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"timezone": [f"In {self.timezone} two of this venue's weddings would overlap."]}
            ) from exc


class Wedding(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned"
        CONFIRMED = "confirmed"
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    date = models.DateField(db_index=True)
    ceremony_time = models.TimeField(help_text="Local time at the venue.")
    reception_end_time = models.TimeField(
        help_text="Local time at the venue; earlier than the ceremony means after midnight."
    )
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="weddings")
    couple_name = models.CharField(max_length=200)
    suppliers = models.ManyToManyField(Supplier, related_name="weddings", blank=True)
    expected_guests = models.PositiveIntegerField(default=100)
    expected_connections = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    # UTC instants derived from the local times, kept for range queries.
    starts_at = models.DateTimeField(db_index=True, editable=False)
    ends_at = models.DateTimeField(db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "ceremony_time"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.couple_name} — {self.date} at {self.venue}"

    def save(self, *args, **kwargs):
        self.compute_instants()
        if self.pk:
            self.expected_connections = self.connection_estimate().value
        else:
            self.expected_connections = self.connection_estimate(suppliers=0).value
        super().save(*args, **kwargs)

    def connection_estimate(self, suppliers: int | None = None):
        """Expected gateway connections, with how they were derived."""
        from apps.weddings.connections import expected_connections

        if suppliers is None:
            suppliers = self.suppliers.count() if self.pk else 0
        return expected_connections(self.expected_guests, suppliers, self.venue.venue_type)

    def refresh_expected_connections(self) -> None:
        """After the suppliers changed (m2m_changed): store the new estimate."""
        value = self.connection_estimate().value
        if value != self.expected_connections:
            self.expected_connections = value
            Wedding.objects.filter(pk=self.pk).update(expected_connections=value)

    def compute_instants(self) -> None:
        self.starts_at, self.ends_at = local_span(
            self.date, self.ceremony_time, self.reception_end_time, self.venue.timezone
        )


def local_span(day: date, start: time, end: time, tz_name: str) -> tuple[datetime, datetime]:
    """UTC instants of a local [start, end) on `day`; an end before the start is the next day."""
    tz = ZoneInfo(tz_name)
    start_local = datetime.combine(day, start, tzinfo=tz)
    end_day = day + timedelta(days=1) if end <= start else day
    end_local = datetime.combine(end_day, end, tzinfo=tz)
    utc = ZoneInfo("UTC")
    return start_local.astimezone(utc), end_local.astimezone(utc)


class EmergencyContact(models.Model):
    """Who to call, in order: per wedding, per venue, or platform-wide (neither set)."""

    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    webhook_url = models.URLField(blank=True)
    wedding = models.ForeignKey(
        Wedding, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    order = models.PositiveSmallIntegerField(default=0, help_text="Escalation order, lowest first.")

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


class FreezeOverride(models.Model):
    """Audit log: an admin overrode the wedding-day freeze, with a reason."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=200)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    reason = models.TextField()
    live_weddings = models.JSONField(default=list)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.action}"
