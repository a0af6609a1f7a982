from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.scaling.models import ACTUATORS, Decision, EmergencyCapacity, ScalingPolicy


class ActuatorsField(serializers.ListField):
    """A list of actuator names; errors as one flat list of messages, as the model's."""

    child = serializers.ChoiceField(
        choices=ACTUATORS,
        error_messages={"invalid_choice": "Unknown actuator {input!r}; use " + "/".join(ACTUATORS)},
    )

    def to_representation(self, data):
        # Before the fix, clean() let any falsy JSON through (0.0, "", {}: `x or []`), and the
        # scaler reads those as "the default" too: show them as the empty list they mean.
        return super().to_representation(data if isinstance(data, list) else [])

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError(
                [f"item {i}: {' '.join(map(str, errs))}" for i, errs in exc.detail.items()]
            ) from None


class ScalingPolicySerializer(serializers.ModelSerializer):
    effective_max_units = serializers.IntegerField(read_only=True)
    effective_emergency_units = serializers.IntegerField(read_only=True)
    # A typed list (not a bare JSONField), so the schema says what it takes and a multipart
    # `actuators=true` is refused by name instead of raising TypeError (issue 15).
    actuators = ActuatorsField(
        required=False,
        max_length=len(ACTUATORS),
        help_text="Any of gauges, celery (worker pool only), webhook (needs webhook_url and "
        "webhook_secret); empty: the SCALING_ACTUATORS setting.",
    )

    class Meta:
        model = ScalingPolicy
        fields = [
            "id",
            "pool",
            "mode",
            "enabled",
            "capacity_per_unit",
            "baseline_units",
            "min_units",
            "max_units",
            "effective_max_units",
            "emergency_units",
            "effective_emergency_units",
            "target_utilisation_low",
            "target_utilisation_high",
            "lead_time_seconds",
            "stabilisation_seconds",
            "actuators",
            "webhook_url",
            "webhook_secret",
            "cost_per_unit_hour",
            "updated_at",
        ]
        extra_kwargs = {"webhook_secret": {"write_only": True}}

    def validate(self, attrs: dict) -> dict:
        # The model's clean() holds the rules (min <= max, capacity > 0...): one place.
        instance = ScalingPolicy(**{**self._current(), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {
            f.name: getattr(self.instance, f.name)
            for f in ScalingPolicy._meta.concrete_fields
            if f.name not in ("id", "updated_at")
        }


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = [
            "id",
            "pool",
            "tick",
            "decided_at",
            "rule",
            "reason",
            "inputs",
            "current_units",
            "desired_units",
            "outcome",
            "actuation",
            "error",
            "duration_ms",
        ]
        read_only_fields = fields


class EmergencySerializer(serializers.ModelSerializer):
    class Meta:
        model = EmergencyCapacity
        fields = ["id", "reason", "requested_at", "until", "ended_at"]
        read_only_fields = ["id", "requested_at", "ended_at"]


class ForecastPartsSerializer(serializers.Serializer):
    baseline = serializers.FloatField()
    season = serializers.FloatField()
    weddings = serializers.FloatField()
    weddings_live = serializers.IntegerField()
    baseline_messages = serializers.FloatField()


class ForecastPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    connections = serializers.FloatField()
    messages_per_s = serializers.FloatField()
    parts = ForecastPartsSerializer()


class DailyPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    peak_connections = serializers.FloatField()
    mean_connections = serializers.FloatField()
    peak_messages_per_s = serializers.FloatField()
    peak_hour = serializers.DateTimeField()
    weddings = serializers.IntegerField()
    parts_at_peak = ForecastPartsSerializer()


class ForecastHistorySerializer(serializers.Serializer):
    learnt_hours = serializers.IntegerField(help_text="Hours of the week (of 168) with history")
    needed_hours = serializers.IntegerField(help_text="Hours needed before a baseline is used")
    enough = serializers.BooleanField()
    basis = serializers.ChoiceField(choices=["history and calendar", "calendar only"])
    note = serializers.CharField()


class ForecastSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=["hourly", "daily"])
    start = serializers.DateTimeField()
    history_hours_learnt = serializers.IntegerField()
    history = ForecastHistorySerializer()
    points = ForecastPointSerializer(many=True, required=False)
    days = DailyPointSerializer(many=True, required=False)
