"""Request bodies of the status-page API (answers are plain dicts built in api.py)."""

from __future__ import annotations

from rest_framework import serializers

from apps.statuspages.models import IncidentUpdateStatus


class PublicUpdateIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentUpdateStatus.choices)
    body = serializers.CharField(max_length=2000, trim_whitespace=True)


class WebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=500)


class LinkOut(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    valid_from = serializers.DateTimeField()
