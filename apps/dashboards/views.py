"""Pages: the dashboard list and one dashboard's live grid (data comes over the API)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.accounts.roles import is_operator
from apps.dashboards import data, services, timerange
from apps.dashboards.models import RANGE_SECONDS, WidgetKind


def _require_operator(request: HttpRequest) -> None:
    if not is_operator(request.user):
        raise PermissionDenied("Dashboards are for operations staff.")


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    _require_operator(request)
    dashboards = services.visible_dashboards(request.user).select_related("owner")
    return render(request, "dashboards/list.html", {"dashboards": dashboards})


def _page_window(request: HttpRequest, default: str) -> tuple[str, str, str]:
    """(from, to, notice): the URL's window if it is valid, else the default and why."""
    frm, to = request.GET.get("from", ""), request.GET.get("to", "")
    if not (frm or to):
        return f"now-{default}", "now", ""
    try:
        timerange.window({"from": frm, "to": to}, default)
    except timerange.RangeError as exc:
        notice = f"Time range in the link ignored ({exc}); showing the default."
        return f"now-{default}", "now", notice
    return frm or f"now-{default}", to or "now", ""


def _first_data_url(request: HttpRequest, dashboard, widgets: list, frm: str, to: str) -> str:
    """The first snapshot's URL, exactly as dashboard.js asks for it: the page preloads
    it from its <head>, so the server computes it while the browser loads the scripts
    (Plotly alone takes ~0.5 s to parse). Empty when the page would ask otherwise."""
    if set(request.GET) - {"from", "to", "wall"} or to != "now":
        return ""
    preset = frm.removeprefix("now-")
    if frm.startswith("now-") and preset in RANGE_SECONDS:
        window = f"range={preset}"
    elif timerange.RELATIVE.match(frm):
        window = f"from={quote(frm)}&to=now"
    else:
        return ""
    plain_alerts = [
        w for w in widgets if w.kind == "alert" and w.options.get("section") != "emergency"
    ]
    ids = sorted(w.pk for w in widgets if w not in plain_alerts)
    if not ids:
        return ""
    listed = ",".join(map(str, ids))
    url = f"/api/v1/dashboards/{quote(dashboard.slug)}/data/?{window}&widgets={listed}"
    return url + ("&alerts=1" if plain_alerts else "")


@login_required
def dashboard_detail(request: HttpRequest, slug: str) -> HttpResponse:
    _require_operator(request)
    dashboard = get_object_or_404(services.visible_dashboards(request.user), slug=slug)
    widgets = list(dashboard.widgets.all())
    frm, to, notice = _page_window(request, dashboard.default_range)
    config = {
        "slug": dashboard.slug,
        "name": dashboard.name,
        "range": dashboard.default_range,
        # The window in the page's URL (?from=now-24h&to=now): a reload or a shared link
        # shows the same one. dashboard.js keeps the URL in step with the buttons.
        "from": frm,
        "to": to,
        "notice": notice,
        "ranges": list(RANGE_SECONDS),
        "rangeSeconds": RANGE_SECONDS,
        "canEdit": services.can_edit(request.user, dashboard),
        "canDelete": services.can_delete(request.user, dashboard),
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
    config["firstDataUrl"] = _first_data_url(request, dashboard, widgets, frm, to)
    return render(
        request,
        "dashboards/detail.html",
        {"dashboard": dashboard, "widgets": widgets, "config": config},
    )
