"""The metric explorer page (/monitor/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.roles import is_operator
from apps.monitoring import conf
from apps.monitoring.models import ScrapeTarget
from apps.monitoring.query import AGGREGATIONS, known_metrics

RANGES = [
    ("15m", "Last 15 minutes", 900),
    ("1h", "Last hour", 3600),
    ("6h", "Last 6 hours", 6 * 3600),
    ("24h", "Last 24 hours", 86400),
    ("7d", "Last 7 days", 7 * 86400),
    ("30d", "Last 30 days", 30 * 86400),
    ("90d", "Last 90 days", 90 * 86400),
]


@login_required
def explorer(request: HttpRequest) -> HttpResponse:
    if not is_operator(request.user):
        raise PermissionDenied("Only operations staff may browse metrics.")
    names = known_metrics()
    selected = request.GET.get("name") or (
        "wedsync_db_latency_ms" if "wedsync_db_latency_ms" in names else (names[0] if names else "")
    )
    config = {
        "names": names,
        "name": selected,
        "range": request.GET.get("range", "1h"),
        "agg": request.GET.get("agg", "avg"),
        "ranges": [{"key": k, "label": label, "seconds": s} for k, label, s in RANGES],
        "aggregations": list(AGGREGATIONS),
        "maxPoints": conf.MAX_POINTS,
    }
    context = {"config": config, "targets": ScrapeTarget.objects.all()[:50]}
    return render(request, "monitoring/explorer.html", context)
