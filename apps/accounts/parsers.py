"""Request parsers shared by the whole API."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ObjectJSONParser(JSONParser):
    """JSON whose top level is an object, for the views that edit one record.

    Found by schemathesis (issue 15): a JSON list sent to PATCH /api/v1/alert-rules/{id}/
    reached view code that reads `request.data.get(...)` and answered 500. Every
    serializer-backed view (GenericAPIView, so every viewset) takes one object per request,
    so anything else is refused here, once, before any view code runs. A view that does take
    an array says so with `json_array_body = True`; plain APIViews are left alone (their
    serializers refuse a non-object themselves).
    NaN and Infinity are already refused by JSONParser (STRICT_JSON).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        view = (parser_context or {}).get("view")
        if (
            not isinstance(data, dict)
            and hasattr(view, "get_serializer")
            and not getattr(view, "json_array_body", False)
        ):
            raise ParseError(
                f"The request body must be a JSON object of fields, not {_json_type(data)}."
            )
        return data


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
