"""Serializers for scrape targets (samples are parsed by hand in ingest.py, for speed)."""

from __future__ import annotations

from rest_framework import serializers

from apps.monitoring.ingest import LABEL_NAME
from apps.monitoring.models import ScrapeTarget


class ScrapeTargetSerializer(serializers.ModelSerializer):
    bearer_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )
    has_bearer_token = serializers.SerializerMethodField()

    class Meta:
        model = ScrapeTarget
        fields = [
            "id",
            "name",
            "url",
            "interval_seconds",
            "labels",
            "keep",
            "bearer_token",
            "has_bearer_token",
            "enabled",
            "last_scrape_at",
            "last_error",
            "samples_last_scrape",
            "last_duration_ms",
        ]
        read_only_fields = [
            "last_scrape_at",
            "last_error",
            "samples_last_scrape",
            "last_duration_ms",
        ]
        extra_kwargs = {"interval_seconds": {"min_value": 1, "max_value": 86400}}

    def get_has_bearer_token(self, target: ScrapeTarget) -> bool:
        return bool(target.bearer_token)

    def validate_url(self, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http:// and https:// targets can be scraped.")
        return url

    def validate_labels(self, labels: object) -> dict:
        if not isinstance(labels, dict):
            raise serializers.ValidationError("Must be an object of label name to string value.")
        for key, value in labels.items():
            if not LABEL_NAME.match(key) or key.startswith("__"):
                raise serializers.ValidationError(f"{key!r} is not a label name.")
            if not isinstance(value, str):
                raise serializers.ValidationError(f"Value of {key!r} must be a string.")
        return labels
