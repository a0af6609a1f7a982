"""The Calendar page: insights charts and the weddings live now."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.weddings import charts, insights


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    data = insights.build()
    context = {
        "charts": charts.build(data),
        "live": data["live_weddings"],
        "saturdays": data["busiest_saturdays"],
        "generated_at": data["generated_at"],
    }
    return render(request, "weddings/calendar.html", context)
