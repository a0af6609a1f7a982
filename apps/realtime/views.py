from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.realtime.health import health_report


@login_required
def gateway_page(request: HttpRequest) -> HttpResponse:
    return render(request, "realtime/gateway.html", {"report": health_report()})
