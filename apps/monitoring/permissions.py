"""Who may push samples."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.accounts.roles import is_admin
from apps.accounts.token_cache import group_names

# A dedicated service account belongs to this group: it may ingest and nothing else.
INGESTERS = "metric-ingesters"


def can_ingest(user) -> bool:
    if not getattr(user, "is_authenticated", False) or getattr(user, "supplier", None):
        return False
    return is_admin(user) or INGESTERS in group_names(user)


class CanIngestMetrics(BasePermission):
    message = f"Only admins or members of the {INGESTERS!r} group may push metrics."

    def has_permission(self, request, view) -> bool:
        return can_ingest(request.user)
