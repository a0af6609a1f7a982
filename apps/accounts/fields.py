"""Serializer fields for the nested JSON the API takes, each describing itself in OpenAPI.

Found by schemathesis (issue 15): fields stored as JSON (matchers, labels, weekdays, widget
queries…) were published as "any value", so a client generated from the schema could not
build a valid request and the fuzzer's valid-by-schema cases were all refused. These fields
validate what they take and publish the same constraints.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_LABEL_NAME = re.compile(LABEL_NAME_PATTERN)


class LabelMapField(serializers.DictField):
    """An object of Prometheus label name → string value (matchers, target labels).

    OpenAPI 3.0 cannot constrain an object's keys (`propertyNames` is 3.1), so the key rule
    is in the description and the example; values, count and type are in the schema.
    """

    def __init__(
        self,
        *,
        max_items: int = 20,
        min_items: int = 0,
        value_max_length: int = 200,
        example: dict | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_items, self.min_items = max_items, min_items
        self.value_max_length = value_max_length
        self.example = example if example is not None else {"severity": "critical"}
        kwargs.setdefault("child", serializers.CharField(max_length=value_max_length))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict:
        value = super().to_internal_value(data)
        if len(value) < self.min_items:
            raise serializers.ValidationError(f"Give at least {self.min_items} label(s).")
        if len(value) > self.max_items:
            raise serializers.ValidationError(f"At most {self.max_items} labels.")
        bad = [key for key in value if not _LABEL_NAME.match(key) or key.startswith("__")]
        if bad:
            raise serializers.ValidationError(
                f"Label name {bad[0][:60]!r} is not valid ([a-zA-Z_][a-zA-Z0-9_]*)."
            )
        return value


class LabelMapFieldExtension(OpenApiSerializerFieldExtension):
    target_class = LabelMapField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field: LabelMapField = self.target
        schema = {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": field.value_max_length},
            "maxProperties": field.max_items,
            "description": (
                (field.help_text + " " if field.help_text else "")
                + "Keys are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting __)."
            ),
            "example": field.example,
        }
        if field.min_items:
            schema["minProperties"] = field.min_items
        return schema


class SchemaJSONField(serializers.JSONField):
    """A JSON value whose shape is checked elsewhere (a spec cleaner) and documented here.

    `schema` is the OpenAPI schema of what the cleaner accepts; `check` (optional) refuses
    a value of the wrong JSON type at the field, before any cleaner runs.
    """

    def __init__(self, *, schema: dict, check: type | tuple | None = None, **kwargs: Any):
        self.openapi_schema, self.check = schema, check
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if self.check is not None and not isinstance(value, self.check):
            raise serializers.ValidationError(f"Must be a JSON {self.openapi_schema['type']}.")
        return value


class SchemaJSONFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SchemaJSONField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = dict(self.target.openapi_schema)
        if self.target.help_text and "description" not in schema:
            schema["description"] = str(self.target.help_text)
        return schema


@functools.cache
def _timezone_names() -> tuple[str, ...]:
    from zoneinfo import available_timezones

    return tuple(sorted(available_timezones()))  # a walk of the tz database: once


class TimezoneField(serializers.ChoiceField):
    """An IANA timezone name, published as an enum (one `TimezoneEnum` component), so a
    generated client offers the real names instead of guessing free text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "IANA timezone name, e.g. Europe/London.")
        super().__init__(choices=_timezone_names(), **kwargs)


class TimezoneFieldExtension(OpenApiSerializerFieldExtension):
    """One `TimezoneEnum` component, without the per-field list of ~600 choice labels that
    drf-spectacular's enum hook would otherwise write into every description."""

    target_class = TimezoneField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        from drf_spectacular.plumbing import ResolvedComponent

        component = ResolvedComponent(
            name="TimezoneEnum",
            type=ResolvedComponent.SCHEMA,
            object="TimezoneEnum",
            schema={"type": "string", "enum": list(self.target.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return {"allOf": [component.ref], "description": str(self.target.help_text)}


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's, refusing what the lookup cannot hold: a NUL byte made PostgreSQL raise
    DataError (a 500) instead of "no such object" (issue 15), and a non-string (a list,
    a dict) was looked up as is."""

    def to_internal_value(self, data: Any):
        if not isinstance(data, str | int) or isinstance(data, bool):
            raise serializers.ValidationError(f"Must be a {self.slug_field} (a string).")
        if "\x00" in str(data):
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)
