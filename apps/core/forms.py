"""Form fields shared by every Django admin form."""

from __future__ import annotations

from typing import Any

from django import forms


class JSONFormField(forms.JSONField):
    """Django's JSON form field, refusing all JSON that Python cannot load.

    forms.JSONField catches only JSONDecodeError: an integer of more than 4,300 digits
    (ValueError) or nesting past the recursion limit (RecursionError) escaped as a 500 from
    every admin form with a JSON field (found by tests/proof/test_admin_junk.py).
    """

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, forms.ValidationError):
                raise
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": "…"}
            ) from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except (ValueError, RecursionError):
            return forms.fields.InvalidJSONInput(data)


def use_safe_json_fields(site: Any) -> None:
    """Give every registered ModelAdmin's JSON model fields the JSONFormField above (one
    place, so an admin added later is covered too; inlines have no JSON fields today)."""
    from django.db import models

    for model_admin in site._registry.values():
        model_admin.formfield_overrides.setdefault(models.JSONField, {}).setdefault(
            "form_class", JSONFormField
        )
