"""The /scaling/ page: forecast vs actual vs capacity, pools and recent decisions."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.roles import is_operator
from apps.scaling import chart, services
from apps.scaling.models import Decision, EmergencyCapacity, PoolState, ScalingPolicy


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    if not is_operator(request.user):
        raise PermissionDenied
    now = timezone.now()
    policies = list(ScalingPolicy.objects.all())
    states = {s.pool: s for s in PoolState.objects.all()}
    pools = [{"policy": p, "state": states.get(p.pool)} for p in policies]
    return render(
        request,
        "scaling/overview.html",
        {
            "pools": pools,
            "decisions": Decision.objects.all()[:25],
            "emergencies": EmergencyCapacity.active(now),
            "history": services.cached_baselines(now).describe(),
            "chart": chart.page_series(now - timedelta(hours=24), now + timedelta(hours=48)),
        },
    )
