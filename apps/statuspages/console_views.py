"""Console pages for operators (/status-pages/): which weddings have a live page, who
subscribed, what was sent; issue, rotate or revoke a link; post an incident update."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.roles import is_operator
from apps.alerts.models import Incident
from apps.statuspages import console, incidents, links
from apps.statuspages.models import IncidentUpdateStatus
from apps.weddings.models import Wedding


def _staff(request: HttpRequest) -> None:
    if not is_operator(request.user):
        raise PermissionDenied("Operations staff only.")


@login_required
def board(request: HttpRequest) -> HttpResponse:
    _staff(request)
    context = {
        "rows": console.board(),
        "open_incidents": Incident.objects.filter(status=Incident.Status.OPEN)[:50],
        "statuses": IncidentUpdateStatus.choices,
    }
    return render(request, "statuspages/board.html", context)


@login_required
def wedding(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    wedding = get_object_or_404(Wedding.objects.select_related("venue"), pk=pk)
    context = {
        "wedding": wedding,
        "o": console.wedding_overview(wedding),
        "new_url": request.session.pop(f"statuspages-new-{pk}", None),
    }
    return render(request, "statuspages/wedding.html", context)


@login_required
@require_POST
def wedding_action(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    wedding = get_object_or_404(Wedding.objects.select_related("venue"), pk=pk)
    action = request.POST.get("action")
    if action == "issue":
        try:
            issued = links.issue(wedding, request.user)
        except links.LinkError as exc:
            messages.error(request, str(exc))
        else:
            # Shown once on the next page view (only the hash is kept).
            request.session[f"statuspages-new-{pk}"] = request.build_absolute_uri(issued.path)
            messages.success(request, "New link issued; any earlier link no longer works.")
    elif action == "revoke":
        n = links.revoke(wedding, request.user)
        messages.success(request, f"Revoked {n} link(s).")
    else:
        messages.error(request, "Unknown action.")
    return redirect("statuspages-console:wedding", pk=pk)


@login_required
@require_POST
def post_update(request: HttpRequest) -> HttpResponse:
    _staff(request)
    incident = get_object_or_404(Incident, pk=request.POST.get("incident") or 0)
    try:
        incidents.post_update(
            incident, request.POST.get("status", ""), request.POST.get("body", ""), request.user
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        pages = console.affected_open_pages(incident)
        messages.success(request, f"Update posted: shown on {len(pages)} live page(s).")
    return redirect("statuspages-console:board")
