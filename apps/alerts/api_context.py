"""Read-only API the ops pages need around alerts: weddings at risk, the label catalogue the
silence builder offers, and which active alerts a set of matchers would mute."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers as drf
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import OperatorAction
from apps.alerts import atrisk
from apps.alerts.models import ACTIVE_STATES, Alert, AlertRule, labels_match
from apps.alerts.serializers import validate_matchers
from apps.alerts.suppression import alert_labels

MAX_VALUES = 200


class AtRiskView(APIView):
    """Live weddings touched by an open incident, an active alert or a degraded venue, worst
    first, each with its reasons in words."""

    permission_classes = [OperatorAction]

    @extend_schema(responses=OpenApiResponse(description="{count, results: [wedding at risk]}"))
    def get(self, request):
        rows = atrisk.weddings_at_risk()
        return Response({"count": len(rows), "next": None, "previous": None, "results": rows})


class LabelCatalogView(APIView):
    """Label names and values that alerts carry (active and recent), plus every venue, so a
    silence is built from real values rather than typed from memory."""

    permission_classes = [OperatorAction]

    @extend_schema(responses=OpenApiResponse(description="{names, values, venues}"))
    def get(self, request):
        from apps.weddings.models import Venue

        values: dict[str, set[str]] = {
            "alertname": set(AlertRule.objects.values_list("name", flat=True)),
            "severity": {"info", "warning", "critical"},
        }
        for labels in Alert.objects.order_by("-updated_at").values_list("labels", flat=True)[:2000]:
            for name, value in (labels or {}).items():
                values.setdefault(name, set()).add(str(value))
        venues = [
            {"id": v["pk"], "name": v["name"], "timezone": v["timezone"]}
            for v in Venue.objects.order_by("name").values("pk", "name", "timezone")[:2000]
        ]
        return Response(
            {
                "names": sorted(values),
                "values": {k: sorted(v)[:MAX_VALUES] for k, v in sorted(values.items())},
                "venues": venues,
            }
        )


class PreviewSerializer(drf.Serializer):
    matchers = drf.JSONField()

    def validate_matchers(self, value):
        return validate_matchers(value, allow_empty=False)


def matching_alerts(matchers: dict) -> list[Alert]:
    """Active alerts whose labels (with alertname and severity) match every matcher exactly."""
    active = Alert.objects.filter(state__in=ACTIVE_STATES).select_related("rule")
    return [a for a in active if labels_match(matchers, alert_labels(a.rule, a.labels))]


class SilencePreviewView(APIView):
    """POST {matchers}: the active alerts a silence with these matchers would mute now."""

    permission_classes = [OperatorAction]

    @extend_schema(
        request=PreviewSerializer,
        responses=OpenApiResponse(description="{count, results: [alert]}"),
    )
    def post(self, request):
        from apps.alerts.serializers import AlertSerializer

        body = PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = matching_alerts(body.validated_data["matchers"])
        data = AlertSerializer(found, many=True, context={"request": request}).data
        return Response({"count": len(found), "results": data})


class QuotaBudgetView(APIView):
    """Suppliers whose expected connections at their busiest coming stretch (overlapping
    weddings × each wedding's expected connections) exceed max_connections. `?hours=`
    (default 48, at most 168)."""

    permission_classes = [OperatorAction]

    @extend_schema(responses=OpenApiResponse(description="{count, results: [shortfall]}"))
    def get(self, request):
        from django.utils import timezone
        from rest_framework.exceptions import ValidationError

        from apps.alerts.quota_budget import shortfalls

        try:
            hours = float(request.query_params.get("hours", 48))
        except ValueError:
            raise ValidationError({"hours": "Must be a number of hours."}) from None
        if not 0 < hours <= 168:
            raise ValidationError({"hours": "Must be more than 0 and at most 168."})
        now = timezone.now()
        rows = [gap.as_dict(now) for gap in shortfalls(now, hours)]
        return Response({"count": len(rows), "next": None, "previous": None, "results": rows})
