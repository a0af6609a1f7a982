from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.scaling.models import Decision, EmergencyCapacity, ScalingPolicy


class ScalingPolicySerializer(serializers.ModelSerializer):
    effective_max_units = serializers.IntegerField(read_only=True)
    effective_emergency_units = serializers.IntegerField(read_only=True)

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


class ForecastSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=["hourly", "daily"])
    start = serializers.DateTimeField()
    history_hours_learnt = serializers.IntegerField()
    points = ForecastPointSerializer(many=True, required=False)
    days = DailyPointSerializer(many=True, required=False)
