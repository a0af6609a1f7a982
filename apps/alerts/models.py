"""Alert rules, alerts and their history, silences, maintenance, escalation, notifications,
incidents."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from apps.weddings.models import validate_timezone


def fingerprint(labels: dict) -> str:
    """Stable identity of a label set (one alert per rule and fingerprint)."""
    return hashlib.sha1(orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)).hexdigest()


def labels_match(matchers: dict, labels: dict) -> bool:
    """Equality matchers: every matcher label must be present with that value."""
    return all(labels.get(k) == v for k, v in matchers.items())


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class EmergencyType(models.TextChoices):
    VENUE_NETWORK_FAILURE = "venue_network_failure", "Venue network failure"
    LATENCY_SPIKE = "latency_spike", "Latency spike"
    SERVICE_DEGRADATION = "service_degradation", "Service degradation"
    COORDINATION_FAILURE = "coordination_failure", "Coordination failure"


class NotificationChannel(models.Model):
    """Somewhere a notification goes: an email address, a webhook, a Slack webhook."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"
        SLACK = "slack"
        ALERTMANAGER = "alertmanager"  # Alertmanager's webhook payload (version "4")

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Email address or webhook URL.")
    # HMAC-SHA256 key for generic webhooks (X-WedSync-Signature).
    secret = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name

    def snapshot(self) -> dict:
        """What escalation follows for one alert episode, frozen when it starts."""
        # .all() so a prefetched policy (the engine's rule cache) costs no query at firing time.
        return {
            "policy": self.pk,
            "name": self.name,
            "levels": [
                {
                    "delay_seconds": level.delay_seconds,
                    "repeat_count": level.repeat_count,
                    "repeat_interval_seconds": level.repeat_interval_seconds,
                    "channels": sorted(channel.pk for channel in level.channels.all()),
                }
                for level in self.levels.all()
            ],
        }


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(default=0)
    # Wait before this level's first notice: from firing (level 0) or the previous level's last.
    delay_seconds = models.PositiveIntegerField(default=0)
    # Extra notices at this level (0 = notify once), spaced by repeat_interval_seconds.
    repeat_count = models.PositiveSmallIntegerField(default=0)
    repeat_interval_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(1)]
    )
    channels = models.ManyToManyField(NotificationChannel, related_name="levels")

    class Meta:
        ordering = ["policy", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.order}"


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold"
        NO_DATA = "no_data"
        EXTERNAL = "external"  # fired by a sender (Prometheus), never evaluated here

    class Aggregation(models.TextChoices):
        LAST = "last"
        AVG = "avg"
        MIN = "min"
        MAX = "max"
        P95 = "p95"
        RATE = "rate"
        COUNT = "count"

    class Comparator(models.TextChoices):
        GT = "gt"
        GTE = "gte"
        LT = "lt"
        LTE = "lte"

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.THRESHOLD)
    metric = models.CharField(max_length=200, db_index=True)
    matchers = models.JSONField(default=dict, blank=True)
    aggregation = models.CharField(max_length=5, choices=Aggregation.choices, default="last")
    window_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    comparator = models.CharField(max_length=3, choices=Comparator.choices, default="gt")
    threshold = models.FloatField(default=0.0)
    wedding_day_threshold = models.FloatField(null=True, blank=True)
    # no_data rules: the series is silent for this long.
    no_data_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    for_seconds = models.PositiveIntegerField(default=0)
    keep_firing_for_seconds = models.PositiveIntegerField(default=0)
    severity = models.CharField(max_length=10, choices=Severity.choices, default="warning")
    enabled = models.BooleanField(default=True)
    runbook_url = models.URLField(blank=True)
    escalation_policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules"
    )
    emergency_type = models.CharField(max_length=30, choices=EmergencyType.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["metric", "enabled"])]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


ACTIVE_STATES = (AlertState.PENDING, AlertState.FIRING)


class Alert(models.Model):
    """One per rule and label set; its episodes come and go, the row stays."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=40)
    labels = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=AlertState.choices, default="inactive")
    # Bumped each time the alert leaves inactive/resolved: keys escalation and notices.
    episode = models.PositiveIntegerField(default=0)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True, help_text="Threshold in force.")
    wedding_day = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_true_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_comment = models.TextField(blank=True)
    # Escalation of the current episode: the policy snapshot and the next step due.
    escalation = models.JSONField(null=True, blank=True)
    escalation_next_level = models.IntegerField(null=True, blank=True)
    escalation_next_repeat = models.IntegerField(null=True, blank=True)
    escalation_next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "fingerprint"], name="alert_rule_fingerprint")
        ]
        indexes = [models.Index(fields=["state", "rule"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.labels} [{self.state}]"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class AlertTransition(models.Model):
    """The status history: every change of state, acknowledgement and notice decision."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="transitions")
    episode = models.PositiveIntegerField(default=0)
    from_state = models.CharField(max_length=10)
    to_state = models.CharField(max_length=10)
    at = models.DateTimeField(db_index=True)
    value = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} at {self.at:%Y-%m-%d %H:%M:%S}"


class Silence(models.Model):
    """Suppresses notifications (not evaluation) for alerts whose labels match."""

    matchers = models.JSONField(
        help_text="Label → value; `alertname` matches the rule name, `severity` its severity."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"silence {self.matchers} until {self.ends_at:%Y-%m-%d %H:%M}"

    def active_at(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class MaintenanceWindow(models.Model):
    """A recurring local-time window (e.g. Tuesdays 02:00–03:30 Europe/London) that mutes
    notifications for matching alerts; DST-correct because it is computed in local time."""

    name = models.CharField(max_length=150)
    matchers = models.JSONField(default=dict, blank=True, help_text="Empty = every alert.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    start_time = models.TimeField(help_text="Local start time.")
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # ISO weekdays 1 (Mon) … 7 (Sun); empty = every day.
    weekdays = models.JSONField(default=list, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def active_at(self, at: datetime) -> bool:
        if not self.enabled:
            return False
        tz = ZoneInfo(self.timezone)
        local = at.astimezone(tz)
        duration = timedelta(minutes=self.duration_minutes)
        # A window that started on one of the previous days may still be open.
        for back in range(0, self.duration_minutes // 1440 + 2):
            day = local.date() - timedelta(days=back)
            if self.weekdays and day.isoweekday() not in self.weekdays:
                continue
            if self.valid_from and day < self.valid_from:
                continue
            if self.valid_until and day > self.valid_until:
                continue
            start = datetime.combine(day, self.start_time, tzinfo=tz)
            # Compare in UTC so a window across a DST change keeps its real duration.
            start_utc = start.astimezone(ZoneInfo("UTC"))
            if start_utc <= at < start_utc + duration:
                return True
        return False


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    emergency_type = models.CharField(max_length=30, choices=EmergencyType.choices)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default="open")
    reason = models.TextField(blank=True)
    wedding = models.ForeignKey(
        "weddings.Wedding", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    venue = models.ForeignKey(
        "weddings.Venue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    # One incident per alert episode, however many processes see it fire.
    source_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    capacity_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class IncidentEvent(models.Model):
    """The incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class Notification(models.Model):
    """The delivery log. `key` is claimed (inserted) before sending, so a redelivered task
    finds it and never sends twice."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        RETRYING = "retrying"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    class Kind(models.TextChoices):
        FIRING = "firing"
        ESCALATED = "escalated"  # a further escalation level's first notice
        REPEAT = "repeat"  # a reminder within a level
        RESOLVED = "resolved"
        EMERGENCY = "emergency"
        TEST = "test"
        QUOTA = "quota"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel_kind = models.CharField(max_length=12, choices=NotificationChannel.Kind.choices)
    channel = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=500)
    secret = models.CharField(max_length=200, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=300)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.target} [{self.status}]"


from apps.alerts.alertmanager_models import AlertRoute, ExternalAlert  # noqa: E402, F401
