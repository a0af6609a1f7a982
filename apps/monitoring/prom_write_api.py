"""POST /prometheus/api/v1/write: Prometheus remote write 1.0 (thin view)."""

from __future__ import annotations

import time

from django.http import HttpResponse, JsonResponse
from rest_framework.views import APIView

from apps.monitoring import remote_write
from apps.monitoring.api import _read_body
from apps.monitoring.ingest import IngestError, store
from apps.monitoring.permissions import CanIngestMetrics
from apps.monitoring.prom_auth import PrometheusClientAuthentication


class RemoteWriteView(APIView):
    """204 stored; 400 bad data (not retried); 413 too large; 415 not 1.0; 503 retry.

    No request-rate throttle: a 429 makes Prometheus drop the samples unless its
    retry_on_http_429 is set, and a lost sample is worse than a slow one.
    """

    authentication_classes = [PrometheusClientAuthentication]
    permission_classes = [CanIngestMetrics]
    schema = None  # binary protobuf: documented in docs/monitoring.md, not OpenAPI

    def post(self, request):
        from apps.core import metrics

        now = time.time()
        try:
            remote_write.check_content_type(request.META.get("CONTENT_TYPE", ""))
            body = _read_body(request)
            raw = remote_write.decompress(body, request.META.get("HTTP_CONTENT_ENCODING", ""))
            batch = remote_write.to_batch(remote_write.parse(raw), now=now)
            store(batch)
        except IngestError as exc:
            metrics.ingest_rejected_batches.inc()
            return JsonResponse(exc.as_dict(), status=exc.status)
        return HttpResponse(status=204)
