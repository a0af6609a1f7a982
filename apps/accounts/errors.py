"""API errors: DRF's shape, plus 503 + Retry-After when the database is away."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        response = Response(
            {"error": "database_unavailable", "detail": "The database is not answering; retry."},
            status=503,
        )
        response["Retry-After"] = "2"
        return response
    return drf_exception_handler(exc, context)
