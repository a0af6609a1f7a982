"""Template context for every page: the open incidents (the banner in base.html)."""

from __future__ import annotations

from django.http import HttpRequest


def open_incidents(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"is_ops_staff": False, "open_incidents": []}
    from apps.accounts.roles import is_operator
    from apps.alerts.models import Incident

    if not is_operator(user):
        return {"is_ops_staff": False, "open_incidents": []}
    incidents = list(
        Incident.objects.filter(status=Incident.Status.OPEN)
        .select_related("wedding", "venue")
        .order_by("-created_at")[:3]
    )
    return {"is_ops_staff": True, "open_incidents": incidents}
