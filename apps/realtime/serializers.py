from __future__ import annotations

from rest_framework import serializers

from apps.realtime.topics import TopicError, parse_topic


class PublishSerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=64, help_text="wedding:<id> or supplier:<id>")
    data = serializers.JSONField(help_text="A JSON object delivered to subscribers as is.")

    def validate_topic(self, value: str) -> str:
        try:
            parse_topic(value)
        except TopicError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_data(self, value: object) -> dict:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class PublishResultSerializer(serializers.Serializer):
    topic = serializers.CharField()
    seq = serializers.IntegerField(
        allow_null=True, help_text="Sequence number; null while queued in the outbox."
    )
    queued = serializers.BooleanField(help_text="True when Redis was down: delivered later.")


class HealthSerializer(serializers.Serializer):
    """The report of apps.realtime.health.health_report (documented loosely: a dict)."""

    processes = serializers.IntegerField()
    connections = serializers.IntegerField()
    connections_per_supplier = serializers.DictField(child=serializers.IntegerField())
    subscriptions = serializers.IntegerField()
    messages_in_per_s = serializers.FloatField(allow_null=True)
    messages_out_per_s = serializers.FloatField()
    latency_ms = serializers.DictField()
    quota_rejections = serializers.IntegerField()
    replays_served = serializers.IntegerField()
    breakers = serializers.DictField()
    breaker_open = serializers.BooleanField()
    outbox_pending = serializers.IntegerField()
