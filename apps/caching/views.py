"""The /cache/ page: live figures of the two tiers (the page polls the stats API)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.roles import is_operator
from apps.caching.service import aggregate_stats
from apps.caching.warming import coverage


@login_required
def cache_page(request: HttpRequest) -> HttpResponse:
    if not is_operator(request.user):
        raise PermissionDenied("Operations staff only.")
    return render(
        request, "caching/index.html", {"stats": {**aggregate_stats(), "warming": coverage()}}
    )
