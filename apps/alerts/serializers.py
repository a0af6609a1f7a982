"""API serializers of the alerts app. Every refusal names the field that was wrong."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from django.core.validators import EmailValidator, RegexValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from apps.accounts.fields import METRIC_NAME_PATTERN, LabelMapField, TimezoneField
from apps.alerts import conf
from apps.alerts.models import (
    Alert,
    AlertRule,
    AlertTransition,
    EmergencyType,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    IncidentEvent,
    MaintenanceWindow,
    Notification,
    NotificationChannel,
    Silence,
)

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def validate_matchers(value, *, allow_empty: bool = True) -> dict:
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must be an object of label → value.")
    if not value and not allow_empty:
        raise serializers.ValidationError("Give at least one label matcher.")
    if len(value) > 20:
        raise serializers.ValidationError("At most 20 matchers.")
    for key, val in value.items():
        if not LABEL_NAME.match(key):
            raise serializers.ValidationError(f"Label name {key!r} is not valid.")
        if not isinstance(val, str) or len(val) > 200:
            raise serializers.ValidationError(f"Value of {key!r} must be a string (≤ 200).")
    return value


class AlertRuleSerializer(serializers.ModelSerializer):
    matchers = LabelMapField(required=False, help_text="Label → value the series must carry.")

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "metric",
            "matchers",
            "aggregation",
            "window_seconds",
            "comparator",
            "threshold",
            "wedding_day_threshold",
            "no_data_seconds",
            "for_seconds",
            "keep_firing_for_seconds",
            "severity",
            "enabled",
            "runbook_url",
            "escalation_policy",
            "emergency_type",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "metric": {"validators": [RegexValidator(METRIC_NAME_PATTERN)]},
            "window_seconds": {"max_value": conf.MAX_WINDOW_SECONDS},
        }

    def validate_metric(self, value: str) -> str:
        if not METRIC_NAME.match(value):
            raise serializers.ValidationError("Not a valid Prometheus metric name.")
        return value

    def validate_matchers(self, value):
        return validate_matchers(value)

    def validate_window_seconds(self, value: int) -> int:
        if value > conf.MAX_WINDOW_SECONDS:
            raise serializers.ValidationError(
                f"At most {conf.MAX_WINDOW_SECONDS} s (ALERTS_MAX_WINDOW_SECONDS)."
            )
        return value

    def _finite(self, value):
        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number.")
        return value

    validate_threshold = _finite
    validate_wedding_day_threshold = _finite


class TransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = AlertTransition
        fields = ["episode", "from_state", "to_state", "at", "value", "note", "actor"]


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    severity = serializers.CharField(source="rule.severity", read_only=True)
    metric = serializers.CharField(source="rule.metric", read_only=True)
    comparator = serializers.CharField(source="rule.comparator", read_only=True)
    runbook_url = serializers.CharField(source="rule.runbook_url", read_only=True)
    acknowledged = serializers.BooleanField(read_only=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", default=None, read_only=True
    )
    silenced_by = serializers.SerializerMethodField()
    weddings = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    measure = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "severity",
            "metric",
            "comparator",
            "runbook_url",
            "state",
            "episode",
            "value",
            "threshold",
            "wedding_day",
            "labels",
            "started_at",
            "fired_at",
            "resolved_at",
            "last_evaluated_at",
            "acknowledged",
            "acknowledged_by",
            "acknowledged_at",
            "ack_comment",
            "silenced_by",
            "weddings",
            "unit",
            "measure",
            "updated_at",
        ]

    def get_silenced_by(self, alert: Alert) -> str | None:
        suppressions = self.context.get("suppressions")
        if suppressions is None or alert.state not in ("pending", "firing"):
            return None
        return suppressions.reason(alert.rule, alert.labels)

    def get_weddings(self, alert: Alert) -> list[dict]:
        """The live weddings this alert touches (apps.alerts.atrisk)."""
        from apps.alerts.atrisk import weddings_for_labels

        live = self.context.get("live")
        if live is None or alert.state not in ("pending", "firing"):
            return []
        return weddings_for_labels(alert.labels, live)

    def get_measure(self, alert: Alert) -> str:
        """What `value` is: the rule's aggregation over its window."""
        from apps.alerts.tiles import measure_words

        return measure_words(alert.rule)

    def get_unit(self, alert: Alert) -> str:
        from apps.alerts.rules import unit_for

        return unit_for(alert.rule.metric, alert.rule.aggregation).label


class AlertDetailSerializer(AlertSerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    escalation = serializers.JSONField(read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "escalation", "escalation_next_at", "transitions"]


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class SilenceSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.username", default=None, read_only=True, allow_null=True
    )
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(
        required=False,
        write_only=True,
        min_value=1,
        max_value=60 * 24 * 30,
        help_text="Instead of ends_at: how long from starts_at.",
    )
    active = serializers.SerializerMethodField()
    matchers = LabelMapField(
        min_items=1,
        example={"alertname": "Gateway error rate"},
        help_text="Label → value; `alertname` matches the rule name, `severity` its severity.",
    )

    class Meta:
        model = Silence
        fields = [
            "id",
            "matchers",
            "starts_at",
            "ends_at",
            "duration_minutes",
            "reason",
            "created_by",
            "created_at",
            "active",
        ]

    def validate_matchers(self, value):
        return validate_matchers(value, allow_empty=False)

    def validate_reason(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Say why (it is shown to everyone).")
        return value

    def get_active(self, silence: Silence) -> bool:
        return silence.active_at(timezone.now())

    def validate(self, attrs):
        starts = (
            attrs.get("starts_at") or getattr(self.instance, "starts_at", None) or timezone.now()
        )
        minutes = attrs.pop("duration_minutes", None)
        ends = attrs.get("ends_at") or getattr(self.instance, "ends_at", None)
        if minutes is not None:
            ends = starts + timedelta(minutes=minutes)
        if ends is None:
            raise serializers.ValidationError({"ends_at": "Give ends_at or duration_minutes."})
        if ends <= starts:
            raise serializers.ValidationError({"ends_at": "Must be after starts_at."})
        attrs["starts_at"], attrs["ends_at"] = starts, ends
        return attrs


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()
    matchers = LabelMapField(required=False, help_text="Empty = every alert.")
    timezone = TimezoneField(required=False)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        max_length=7,
        help_text="ISO weekdays, 1 (Monday) to 7 (Sunday); empty = every day.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "name",
            "matchers",
            "timezone",
            "start_time",
            "duration_minutes",
            "weekdays",
            "valid_from",
            "valid_until",
            "enabled",
            "active",
        ]

    def validate_matchers(self, value):
        return validate_matchers(value)

    def validate_weekdays(self, value):
        if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in value
        ):
            raise serializers.ValidationError("A list of ISO weekdays, 1 (Monday) to 7 (Sunday).")
        return sorted(set(value))

    def validate(self, attrs):
        start = attrs.get("valid_from")
        end = attrs.get("valid_until")
        if start and end and end < start:
            raise serializers.ValidationError({"valid_until": "Must not be before valid_from."})
        return attrs

    def get_active(self, window: MaintenanceWindow) -> bool:
        return window.active_at(timezone.now())


class NotificationChannelSerializer(serializers.ModelSerializer):
    channel_kind = serializers.ChoiceField(source="kind", choices=NotificationChannel.Kind.choices)
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = NotificationChannel
        fields = ["id", "name", "channel_kind", "target", "secret", "has_secret", "enabled"]

    def get_has_secret(self, channel) -> bool:
        return bool(channel.secret)

    def validate(self, attrs):
        kind = attrs.get("kind") or getattr(self.instance, "kind", None)
        target = attrs.get("target") or getattr(self.instance, "target", "")
        try:
            if kind == "email":
                EmailValidator()(target)
            else:
                URLValidator(schemes=["http", "https"])(target)
        except Exception:
            what = "an email address" if kind == "email" else "an http(s) URL"
            raise serializers.ValidationError(
                {"target": f"Must be {what} for a {kind} channel."}
            ) from None
        return attrs


class EscalationLevelSerializer(serializers.ModelSerializer):
    channels = serializers.PrimaryKeyRelatedField(
        many=True, queryset=NotificationChannel.objects.all()
    )

    class Meta:
        model = EscalationLevel
        fields = ["order", "delay_seconds", "repeat_count", "repeat_interval_seconds", "channels"]


class EscalationPolicySerializer(serializers.ModelSerializer):
    levels = EscalationLevelSerializer(many=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "description", "levels"]

    def validate_levels(self, value):
        if not value:
            raise serializers.ValidationError("Give at least one level.")
        # Levels are replaced wholesale, so a PATCH (partial all the way down) must still
        # give whole rows: a row without channels answered 500 (KeyError) before (issue 15).
        missing = [{"channels": ["This field is required."]} if "channels" not in row else {}
                   for row in value]  # fmt: skip
        if any(missing):
            raise serializers.ValidationError(missing)
        return value

    def _write_levels(self, policy, levels) -> None:
        policy.levels.all().delete()
        for i, data in enumerate(levels):
            channels = data.pop("channels")
            data.setdefault("order", i)
            level = EscalationLevel.objects.create(policy=policy, **data)
            level.channels.set(channels)

    @transaction.atomic
    def create(self, validated):
        levels = validated.pop("levels")
        policy = EscalationPolicy.objects.create(**validated)
        self._write_levels(policy, levels)
        return policy

    @transaction.atomic
    def update(self, policy, validated):
        levels = validated.pop("levels", None)
        for key, value in validated.items():
            setattr(policy, key, value)
        policy.save()
        if levels is not None:
            # Alerts already escalating keep their snapshot; only new episodes see this.
            self._write_levels(policy, levels)
        return policy


class NotificationSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="kind", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "key",
            "event",
            "channel_kind",
            "channel",
            "target",
            "alert",
            "incident",
            "subject",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
            "next_attempt_at",
        ]


class IncidentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentEvent
        fields = ["at", "kind", "message", "data"]


class IncidentSerializer(serializers.ModelSerializer):
    timeline = IncidentEventSerializer(many=True, read_only=True)
    triggered_by = serializers.CharField(
        source="triggered_by.username", default=None, read_only=True, allow_null=True
    )
    venue_name = serializers.CharField(
        source="venue.name", default=None, read_only=True, allow_null=True
    )
    wedding_name = serializers.CharField(
        source="wedding.couple_name", default=None, read_only=True, allow_null=True
    )
    contacts = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "emergency_type",
            "title",
            "status",
            "reason",
            "wedding",
            "wedding_name",
            "venue",
            "venue_name",
            "alert",
            "triggered_by",
            "capacity_until",
            "created_at",
            "resolved_at",
            "contacts",
            "timeline",
        ]

    def get_contacts(self, incident: Incident) -> list[dict]:
        """Whom the protocol calls, in order, with their phone numbers."""
        from apps.alerts.incidents import contacts_to_phone

        return contacts_to_phone(incident)


class TriggerEmergencySerializer(serializers.Serializer):
    emergency_type = serializers.ChoiceField(choices=EmergencyType.choices)
    wedding = serializers.PrimaryKeyRelatedField(
        queryset=Incident._meta.get_field("wedding").related_model.objects.all(),
        required=False,
        allow_null=True,
    )
    venue = serializers.PrimaryKeyRelatedField(
        queryset=Incident._meta.get_field("venue").related_model.objects.all(),
        required=False,
        allow_null=True,
    )
    reason = serializers.CharField(max_length=2000)

    def validate(self, attrs):
        wedding, venue = attrs.get("wedding"), attrs.get("venue")
        if wedding and venue and wedding.venue_id != venue.pk:
            raise serializers.ValidationError({"venue": "Not the venue of that wedding."})
        if attrs["emergency_type"] == EmergencyType.VENUE_NETWORK_FAILURE and not (
            wedding or venue
        ):
            raise serializers.ValidationError(
                {"venue": "A venue network failure needs the venue (or the wedding)."}
            )
        return attrs


class IncidentNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)


class ResolveIncidentSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
