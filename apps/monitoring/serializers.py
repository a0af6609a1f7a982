"""Serializers for scrape targets (samples are parsed by hand in ingest.py, for speed)."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.fields import LabelMapField
from apps.monitoring import conf
from apps.monitoring.models import ScrapeTarget


class ScrapeTargetSerializer(serializers.ModelSerializer):
    bearer_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )
    has_bearer_token = serializers.SerializerMethodField()
    labels = LabelMapField(
        required=False,
        max_items=conf.MAX_LABELS,
        value_max_length=conf.MAX_LABEL_VALUE_LENGTH,
        example={"job": "billing"},
        help_text="Added to every sample scraped from the target.",
    )

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
