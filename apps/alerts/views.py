"""Pages of the alerts app: the live alert list, silences, incidents (thin; data comes from
the API through window.wso.api, live updates from /ws/ops/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.roles import is_admin, is_operator
from apps.alerts.models import EmergencyType
from apps.weddings.live import live_weddings
from apps.weddings.models import Venue


def _staff(request: HttpRequest) -> None:
    if not is_operator(request.user):
        raise PermissionDenied("Operations staff only.")


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(request, "alerts/alerts.html", {"page": "alerts"})


@login_required
def silences(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(
        request, "alerts/silences.html", {"page": "silences", "can_admin": is_admin(request.user)}
    )


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    _staff(request)
    context = {
        "page": "incidents",
        "emergency_types": EmergencyType.choices,
        "venues": Venue.objects.select_related("region").order_by("name")[:500],
        "live": list(live_weddings()[:100]),
    }
    return render(request, "alerts/incidents.html", context)
