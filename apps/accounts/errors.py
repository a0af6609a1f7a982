"""API errors: DRF's shape, plus 503 + Retry-After when the database is away, and 409
when a write conflicts with what is stored (instead of a 500)."""

from __future__ import annotations

from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _in_use(exc: ProtectedError | RestrictedError) -> Response:
    blockers = list(getattr(exc, "protected_objects", None) or exc.restricted_objects)
    names = sorted({f"{o._meta.verbose_name} {o.pk}" for o in blockers[:5]})
    more = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
    return Response(
        {
            "error": "in_use",
            "detail": f"Still referenced by {', '.join(names)}{more}; "
            "change or remove those first.",
        },
        status=409,
    )


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        response = Response(
            {"error": "database_unavailable", "detail": "The database is not answering; retry."},
            status=503,
        )
        response["Retry-After"] = "2"
        return response
    # Found by schemathesis (tests/proof): deleting a region with venues, or renaming a
    # dashboard to a taken slug, answered 500. A conflict is the caller's to resolve.
    if isinstance(exc, ProtectedError | RestrictedError):
        return _in_use(exc)
    # A value PostgreSQL cannot hold or compare (a NUL byte in a path lookup, a number out
    # of range) is the caller's bad input, not a server error (found by schemathesis).
    if isinstance(exc, DataError):
        reason = str(exc).splitlines()[0][:200] if str(exc) else "a value is out of range"
        return Response(
            {"error": "invalid_value", "detail": f"A value in the request is not valid: {reason}"},
            status=400,
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {
                "error": "conflict",
                "detail": "This conflicts with a stored record (a unique value is taken, or a "
                "referenced record is missing).",
            },
            status=409,
        )
    return drf_exception_handler(exc, context)
