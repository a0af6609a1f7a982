"""Pages: the dashboard list and one dashboard's live grid (data comes over the API)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.accounts.roles import is_operator
from apps.dashboards import data, services
from apps.dashboards.models import RANGE_SECONDS, WidgetKind


def _require_operator(request: HttpRequest) -> None:
    if not is_operator(request.user):
        raise PermissionDenied("Dashboards are for operations staff.")


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    _require_operator(request)
    dashboards = services.visible_dashboards(request.user).select_related("owner")
    return render(request, "dashboards/list.html", {"dashboards": dashboards})


@login_required
def dashboard_detail(request: HttpRequest, slug: str) -> HttpResponse:
    _require_operator(request)
    dashboard = get_object_or_404(services.visible_dashboards(request.user), slug=slug)
    widgets = list(dashboard.widgets.all())
    config = {
        "slug": dashboard.slug,
        "name": dashboard.name,
        "range": dashboard.default_range,
        "ranges": list(RANGE_SECONDS),
        "rangeSeconds": RANGE_SECONDS,
        "canEdit": services.can_edit(request.user, dashboard),
        "series": data.subscribed_names(dashboard),
        "kinds": WidgetKind.choices,
        "widgets": [
            {
                "id": w.pk,
                "kind": w.kind,
                "title": w.title,
                "queries": w.queries,
                "thresholds": w.thresholds,
                "unit": w.unit,
                "options": w.options,
                "position": w.position,
                "width": w.width,
                "height": w.height,
            }
            for w in widgets
        ],
    }
    return render(
        request,
        "dashboards/detail.html",
        {"dashboard": dashboard, "widgets": widgets, "config": config},
    )
