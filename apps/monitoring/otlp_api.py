"""POST /otlp/v1/metrics: OTLP/HTTP metrics, protobuf or JSON, optionally gzip (thin view).

Status codes as the OTLP/HTTP spec asks: 200 with partial_success for what was refused
point by point, 400 for a body that cannot be decoded (not retryable), 413 too large,
415 neither protobuf nor JSON, 503 + Retry-After when the database is away (retryable).
"""

from __future__ import annotations

import zlib

import orjson
from django.http import HttpResponse
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from rest_framework.views import APIView

from apps.monitoring import conf, otlp
from apps.monitoring.api import _read_body
from apps.monitoring.ingest import IngestError, ingest
from apps.monitoring.permissions import CanIngestMetrics
from apps.monitoring.prom_auth import PrometheusClientAuthentication

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(body, conf.MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise IngestError(f"Body is not valid gzip: {exc}", code="invalid_gzip") from None
    if len(raw) > conf.MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise IngestError(
            f"Body decompresses to more than {conf.MAX_DECOMPRESSED_BYTES} bytes.",
            status=413,
            code="body_too_large",
        )
    return raw


def _decode(raw: bytes, kind: str) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    try:
        if kind == PROTOBUF:
            request.ParseFromString(raw)
        else:
            json_format.Parse(raw.decode("utf-8"), request, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
        raise IngestError(
            f"Body is not an OTLP ExportMetricsServiceRequest: {exc}", code="invalid_otlp"
        ) from None
    return request


def _store(translation: otlp.Translation) -> None:
    """Store the valid samples; invalid ones join the rejected count (partial success)."""
    samples = translation.samples
    try:
        ingest(samples)
        return
    except IngestError as exc:
        if exc.status != 400 or not exc.errors:
            raise
        bad = {e["index"] for e in exc.errors}
        first = exc.errors[0]
        translation.reject(
            len(bad), f"{samples[first['index']]['name']}: {first['field']} {first['message']}"
        )
    ingest([s for i, s in enumerate(samples) if i not in bad])


def _answer(kind: str, translation: otlp.Translation | None, status: int = 200, message: str = ""):
    response = ExportMetricsServiceResponse()
    if translation is not None and translation.rejected:
        response.partial_success.rejected_data_points = translation.rejected
        response.partial_success.error_message = "; ".join(translation.problems)[:1000]
    if status != 200:
        # google.rpc.Status: code 3 INVALID_ARGUMENT (the spec's body of a 4xx).
        body = {"code": 3, "message": message}
        return HttpResponse(orjson.dumps(body), status=status, content_type=JSON)
    if kind == PROTOBUF:
        return HttpResponse(response.SerializeToString(), content_type=PROTOBUF)
    return HttpResponse(json_format.MessageToJson(response), content_type=JSON)


class OTLPMetricsView(APIView):
    authentication_classes = [PrometheusClientAuthentication]
    permission_classes = [CanIngestMetrics]
    schema = None  # the OTLP/HTTP spec's own messages

    def post(self, request):
        kind = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if kind not in (PROTOBUF, JSON):
            return _answer(JSON, None, 415, f"Content-Type {kind!r}: send {PROTOBUF} or {JSON}.")
        try:
            body = _read_body(request)
            if request.META.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
                body = _gunzip(body)
            translation = otlp.translate(_decode(body, kind))
            otlp.accumulate_deltas(translation)
            _store(translation)
        except IngestError as exc:
            # A cardinality limit will not pass on retry: 400, so the sender drops it.
            status = 400 if exc.status == 429 else exc.status
            return _answer(kind, None, status, exc.message)
        return _answer(kind, translation)
