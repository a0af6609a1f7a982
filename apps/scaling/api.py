"""REST API of the scaling manager (thin: the work is in forecast/services)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.permissions import OperatorAction, StaffReadAdminWrite
from apps.scaling import emergency, forecast, services
from apps.scaling.models import Decision, EmergencyCapacity, ScalingPolicy
from apps.scaling.serializers import (
    DecisionSerializer,
    EmergencySerializer,
    ForecastSerializer,
    ScalingPolicySerializer,
)

MAX_HOURS = 24 * 14
MAX_DAYS = 90


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: f"must be a whole number, got {raw!r}"}) from None
    if not low <= value <= high:
        raise ValidationError({name: f"must be between {low} and {high}, got {value}"})
    return value


@extend_schema(
    parameters=[
        OpenApiParameter("hours", int, description=f"Hourly points (1-{MAX_HOURS}), default 48"),
        OpenApiParameter("days", int, description=f"Daily points instead (1-{MAX_DAYS})"),
        OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default: now"),
    ],
    responses=ForecastSerializer,
)
@api_view(["GET"])
@permission_classes([StaffReadAdminWrite])
def forecast_view(request) -> Response:
    """Forecast connections and message rate with their parts (baseline, season, weddings)."""
    start = timezone.now()
    if raw := request.query_params.get("start"):
        start = parse_datetime(raw)
        if start is None or timezone.is_naive(start):
            raise ValidationError({"start": "must be an ISO 8601 date-time with a UTC offset"})
    baselines = services.cached_baselines(start)
    if "days" in request.query_params:
        days = _int_param(request, "days", 30, 1, MAX_DAYS)
        points = forecast.daily(start, days, baselines=baselines)
        body = {"resolution": "daily", "days": [p.as_dict() for p in points]}
    else:
        hours = _int_param(request, "hours", 48, 1, MAX_HOURS)
        points = forecast.hourly(start, hours, baselines=baselines)
        body = {"resolution": "hourly", "points": [p.as_dict() for p in points]}
    body["start"] = forecast.hour_floor(start).isoformat()
    body["history_hours_learnt"] = baselines.learnt_hours
    body["history"] = baselines.describe()
    return Response(body)


class ScalingPolicyViewSet(viewsets.ModelViewSet):
    """Per-pool scaling configuration: operators read, admins write."""

    queryset = ScalingPolicy.objects.all()
    serializer_class = ScalingPolicySerializer
    permission_classes = [StaffReadAdminWrite]


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Every decision with its inputs, the rule that decided, and the outcome."""

    queryset = Decision.objects.all()
    serializer_class = DecisionSerializer
    permission_classes = [StaffReadAdminWrite]
    filterset_fields = ["pool", "rule", "outcome"]
    ordering_fields = ["decided_at", "id"]


class EmergencyViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Request emergency capacity (operators), list requests, end active ones."""

    queryset = EmergencyCapacity.objects.all()
    serializer_class = EmergencySerializer
    permission_classes = [OperatorAction]

    # A plain array of decisions: DecisionSerializer(many=True) here would be documented
    # as a paginated page, because the viewset paginates its list (found by schemathesis).
    @extend_schema(
        responses={201: {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}}}
    )
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = emergency.request_emergency_capacity(
                serializer.validated_data["reason"], serializer.validated_data.get("until")
            )
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise ValidationError({field: message}) from exc
        decisions = Decision.objects.filter(id__in=[d["id"] for d in result["decisions"]])
        return Response(DecisionSerializer(decisions, many=True).data, status=201)


@extend_schema(
    request=None,
    responses=inline_serializer("EmergencyEnded", {"ended": serializers.IntegerField()}),
)
@api_view(["POST"])
@permission_classes([OperatorAction])
def end_emergency_view(request) -> Response:
    """End every active emergency; normal rules (stabilisation, freeze) take over."""
    return Response({"ended": emergency.end_emergency()}, status=status.HTTP_200_OK)
