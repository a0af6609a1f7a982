"""Cross-cutting HTTP middleware."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into 503 + Retry-After instead of a 500.

    During a PostgreSQL restart callers should back off and retry; a 500 would
    tell them the request itself was wrong.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            log.warning("database unavailable: %s", exception)
            response = JsonResponse(
                {
                    "error": "database_unavailable",
                    "detail": "The database is not answering; retry.",
                },
                status=503,
            )
            response["Retry-After"] = "2"
            return response
        return None
