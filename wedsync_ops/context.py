"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "EMBEDDED": settings.EMBEDDED,
        "is_ops_admin": bool(user and user.is_authenticated and _in(user, "admins")),
    }


def _in(user, group: str) -> bool:
    return user.is_superuser or user.groups.filter(name=group).exists()
