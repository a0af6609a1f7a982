"""Thin HTTP views over ingest, query and scrape targets."""

from __future__ import annotations

import time
from datetime import datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.fields import METRIC_NAME_PATTERN
from apps.accounts.permissions import StaffReadAdminWrite
from apps.core.throttling import UserRateThrottle
from apps.monitoring import conf
from apps.monitoring.ingest import IngestError, parse_json, parse_prometheus_text, store, validate
from apps.monitoring.models import ScrapeTarget
from apps.monitoring.permissions import CanIngestMetrics
from apps.monitoring.query import QueryError, known_metrics, label_values, query_range
from apps.monitoring.serializers import ScrapeTargetSerializer


class IngestThrottle(UserRateThrottle):
    scope = "metrics-ingest"
    rate = conf.INGEST_THROTTLE


class OperatorRead(BasePermission):
    def has_permission(self, request, view) -> bool:
        return StaffReadAdminWrite().has_permission(request, view)


def _read_body(request) -> bytes:
    """The raw body, refusing (413) anything over the limit before reading it all."""
    limit = conf.MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_big = IngestError(
        f"Body is larger than {limit} bytes; send smaller batches.",
        status=413,
        code="body_too_large",
    )
    if declared > limit:
        raise too_big
    # Read the stream ourselves: request.body would apply Django's 2.5 MB form limit.
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise too_big
    return body


_SAMPLES_SCHEMA = inline_serializer(
    "MetricSample",
    {
        "name": serializers.CharField(),
        "labels": serializers.DictField(child=serializers.CharField(), required=False),
        "value": serializers.FloatField(),
        "ts": serializers.FloatField(required=False, help_text="unix seconds; default now"),
    },
    many=True,
)


class MetricsIngestView(APIView):
    """POST samples as JSON ({"samples": [...]}) or Prometheus text (text/plain)."""

    permission_classes = [CanIngestMetrics]
    throttle_classes = [IngestThrottle]

    @extend_schema(
        request={
            "application/json": inline_serializer("MetricBatch", {"samples": _SAMPLES_SCHEMA}),
            "text/plain": OpenApiTypes.STR,
        },
        responses={
            202: inline_serializer("IngestAccepted", {"accepted": serializers.IntegerField()}),
            400: OpenApiTypes.OBJECT,
            413: OpenApiTypes.OBJECT,
            429: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request):
        from apps.core import metrics

        now = time.time()
        try:
            body = _read_body(request)
            content_type = (request.content_type or "").split(";")[0].strip().lower()
            if content_type in ("text/plain", "application/openmetrics-text"):
                samples = parse_prometheus_text(
                    body.decode("utf-8", errors="replace"),
                    now,
                    openmetrics=content_type == "application/openmetrics-text",
                )
            else:
                samples = parse_json(body)
            accepted = store(validate(samples, now=now))
        except IngestError as exc:
            metrics.ingest_rejected_batches.inc()
            return Response(exc.as_dict(), status=exc.status)
        return Response({"accepted": accepted}, status=202)


def _instant(raw: str | None, default: float, param: str) -> float:
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        pass
    parsed = parse_datetime(raw)
    if parsed is None:
        raise QueryError(f"{param} must be unix seconds or an ISO 8601 datetime; got {raw!r}.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return parsed.timestamp()


# The query string as the view parses it (issue 15: the schema said "any string", so a client
# generated from it could not build a valid query).
_METRIC_NAME = {"type": "string", "pattern": METRIC_NAME_PATTERN, "maxLength": 200}
_INSTANT = {
    "type": "string",
    "pattern": (
        r"^(1[5-9][0-9]{8}(\.[0-9]{1,6})?"
        r"|20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)$"
    ),
    "example": "1764806400",
}


class MetricsQueryView(APIView):
    permission_classes = [OperatorRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("name", _METRIC_NAME, required=True),
            OpenApiParameter("start", _INSTANT, description="unix s or ISO 8601; default end-1h"),
            OpenApiParameter("end", _INSTANT, description="unix s or ISO 8601; default now"),
            OpenApiParameter(
                "step",
                {"type": "number", "minimum": 1, "maximum": 86400},
                description="seconds per point",
            ),
            OpenApiParameter("agg", str, enum=["avg", "min", "max", "sum", "count", "last", "p95"]),
            OpenApiParameter(
                "label.KEY", str, description="label matcher, e.g. label.queue=celery"
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = request.query_params
        name = params.get("name")
        try:
            if not name:
                raise QueryError("name is required.")
            end = _instant(params.get("end"), time.time(), "end")
            start = _instant(params.get("start"), end - 3600, "start")
            step = None
            if params.get("step"):
                try:
                    step = float(params["step"])
                except ValueError:
                    raise QueryError("step must be a number of seconds.") from None
            matchers = {k[6:]: v for k, v in params.items() if k.startswith("label.") and k[6:]}
            series, meta = query_range(
                name, matchers, start, end, step, params.get("agg", "avg"), with_meta=True
            )
        except QueryError as exc:
            return Response({"error": "invalid_query", "detail": str(exc)}, status=400)
        return Response({"series": series, "start": start, "end": end, **meta})


class MetricNamesView(APIView):
    permission_classes = [OperatorRead]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        name = request.query_params.get("name")
        if name:
            return Response({"name": name, "labels": label_values(name)})
        return Response({"names": known_metrics()})


class ScrapeTargetViewSet(viewsets.ModelViewSet):
    queryset = ScrapeTarget.objects.all()
    serializer_class = ScrapeTargetSerializer
    permission_classes = [StaffReadAdminWrite]
