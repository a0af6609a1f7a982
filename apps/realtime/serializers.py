from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.accounts.fields import SchemaJSONField
from apps.realtime.topics import TOPIC_RE, TopicError, parse_topic


class PublishSerializer(serializers.Serializer):
    topic = serializers.CharField(
        max_length=64,
        help_text="wedding:<id> or supplier:<id>",
        validators=[RegexValidator(TOPIC_RE.pattern, "Use 'wedding:<id>' or 'supplier:<id>'.")],
    )
    data = SchemaJSONField(
        schema={"type": "object", "example": {"event": "first_dance", "at": "20:15"}},
        check=dict,
        help_text="A JSON object delivered to subscribers as is.",
    )

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
    suppliers = serializers.ListField(
        child=serializers.DictField(), help_text="id, name, connections, max_connections"
    )
    subscriptions = serializers.IntegerField()
    messages_in_per_s = serializers.FloatField(allow_null=True)
    messages_out_per_s = serializers.FloatField()
    latency_ms = serializers.DictField()
    quota_rejections = serializers.IntegerField()
    replays_served = serializers.IntegerField()
    breakers = serializers.DictField()
    breaker_open = serializers.BooleanField()
    outbox_pending = serializers.IntegerField()
