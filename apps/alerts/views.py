"""Pages of the alerts app: the live alert list, silences, incidents (thin; data comes from
the API through window.wso.api, live updates from /ws/ops/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.accounts.roles import is_admin, is_operator
from apps.alerts import atrisk
from apps.alerts.evaluation import SYMBOLS
from apps.alerts.models import Alert, EmergencyType, NotificationChannel
from apps.alerts.rules import unit_for
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
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One alert: what its rule evaluates, state history, escalation, notices, incidents."""
    _staff(request)
    alert = get_object_or_404(
        Alert.objects.select_related("rule", "rule__escalation_policy", "acknowledged_by"), pk=pk
    )
    rule = alert.rule
    channels = {c.pk: c for c in NotificationChannel.objects.all()}
    levels = []
    for i, level in enumerate((alert.escalation or {}).get("levels", [])):
        levels.append(
            {
                "n": i,
                "delay_seconds": level["delay_seconds"],
                "repeat_count": level["repeat_count"],
                "channels": [str(channels.get(c, f"channel #{c}")) for c in level["channels"]],
                "next": alert.escalation_next_level == i,
            }
        )
    unit = unit_for(rule.metric, rule.aggregation)
    context = {
        "page": "alerts",
        "alert": alert,
        "rule": rule,
        "unit": unit.label,
        "symbol": SYMBOLS.get(rule.comparator, rule.comparator),
        "transitions": alert.transitions.select_related("actor").order_by("-at", "-pk")[:200],
        "notifications": alert.notifications.select_related("channel").order_by("-created_at")[
            :100
        ],
        "incidents": alert.incidents.order_by("-created_at")[:20],
        "levels": levels,
        "weddings": atrisk.weddings_for_labels(alert.labels)
        if alert.state in ("pending", "firing")
        else [],
        "chart": {
            "alert": alert.pk,
            "metric": rule.metric,
            "labels": alert.labels,
            "aggregation": rule.aggregation,
            "window_seconds": rule.window_seconds,
            "threshold": alert.threshold if alert.threshold is not None else rule.threshold,
            "base_threshold": rule.threshold,
            "wedding_day_threshold": rule.wedding_day_threshold,
            "started_at": alert.started_at.timestamp() if alert.started_at else None,
            "resolved_at": alert.resolved_at.timestamp() if alert.resolved_at else None,
            "unit": unit.label,
        },
    }
    return render(request, "alerts/detail.html", context)


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    _staff(request)
    context = {
        "page": "channels",
        "channels": NotificationChannel.objects.order_by("name"),
        "can_admin": is_admin(request.user),
    }
    return render(request, "alerts/channels.html", context)


@login_required
def silences(request: HttpRequest) -> HttpResponse:
    _staff(request)
    context = {
        "page": "silences",
        "can_admin": is_admin(request.user),
        "weekdays": list(enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], start=1)),
    }
    return render(request, "alerts/silences.html", context)


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
