"""DRF serializers; field checks delegate to apps.dashboards.specs (one set of rules)."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.fields import SchemaJSONField, SlugRelatedField
from apps.dashboards.models import GRID_COLUMNS, MAX_HEIGHT, Dashboard, DashboardVersion, Widget
from apps.dashboards.specs import (
    OPTIONS_SCHEMA,
    QUERIES_SCHEMA,
    THRESHOLDS_SCHEMA,
    SpecError,
    clean_dashboard,
    clean_widget,
)


class WidgetSerializer(serializers.ModelSerializer):
    dashboard = SlugRelatedField(slug_field="slug", queryset=Dashboard.objects.all())
    # Checked by specs.clean_widget in validate(); the schemas say what it accepts.
    queries = SchemaJSONField(schema=QUERIES_SCHEMA, required=False)
    thresholds = SchemaJSONField(schema=THRESHOLDS_SCHEMA, required=False)
    options = SchemaJSONField(schema=OPTIONS_SCHEMA, required=False)

    class Meta:
        model = Widget
        fields = [
            "id", "dashboard", "kind", "title", "queries", "thresholds", "unit", "options",
            "position", "width", "height",
        ]  # fmt: skip
        extra_kwargs = {
            "position": {"max_value": 10_000},
            "width": {"min_value": 1, "max_value": GRID_COLUMNS},
            "height": {"min_value": 1, "max_value": MAX_HEIGHT},
        }

    def validate(self, attrs: dict) -> dict:
        merged = {**self._current(), **{k: v for k, v in attrs.items() if k != "dashboard"}}
        errors: dict[str, str] = {}
        cleaned = clean_widget(merged, "", errors)
        if errors:
            raise serializers.ValidationError(errors)
        if "dashboard" in attrs:
            cleaned["dashboard"] = attrs["dashboard"]
        return cleaned

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in self.Meta.fields[2:]}


class DashboardSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(
        source="owner.username", read_only=True, default=None, allow_null=True
    )
    widgets = WidgetSerializer(many=True, read_only=True)
    slug = serializers.SlugField(max_length=80, required=False)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Dashboard
        fields = [
            "id", "name", "slug", "description", "owner", "shared", "default_range", "tags",
            "created_at", "updated_at", "url", "widgets",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def get_url(self, obj: Dashboard) -> str:
        return f"/dashboards/{obj.slug}/"

    def validate(self, attrs: dict) -> dict:
        current = {}
        if self.instance is not None:
            current = {
                f: getattr(self.instance, f)
                for f in ("name", "slug", "description", "shared", "default_range", "tags")
            }
        try:
            cleaned, _ = clean_dashboard({**current, **attrs})
        except SpecError as exc:
            raise serializers.ValidationError(exc.errors) from None
        return {k: v for k, v in cleaned.items() if k in attrs or self.instance is None}


class DashboardListSerializer(DashboardSerializer):
    widget_count = serializers.IntegerField(source="n", read_only=True)

    class Meta(DashboardSerializer.Meta):
        fields = [f for f in DashboardSerializer.Meta.fields if f != "widgets"] + ["widget_count"]


class ReorderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), max_length=200)


class ImportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    url = serializers.CharField()


class VersionSerializer(serializers.ModelSerializer):
    # None for the version kept from before the first recorded change (no author).
    author = serializers.CharField(
        source="author.username", read_only=True, default=None, allow_null=True
    )
    widget_count = serializers.SerializerMethodField()

    class Meta:
        model = DashboardVersion
        fields = ["number", "created_at", "author", "note", "widget_count"]

    def get_widget_count(self, obj: DashboardVersion) -> int:
        return len(obj.document.get("widgets") or [])
