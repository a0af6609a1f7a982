"""The project's URLs plus a baseline ingest endpoint: DRF serializer + bulk_create.

This is how the endpoint would look written the usual DRF way; the benchmark
measures it in the same run as the real one (apps/monitoring/api.py). Both announce
committed batches the same way (samples_ingested), so the receivers' work (alert
windows, dashboard pushes) weighs on both; BENCH_INGEST_RECEIVERS=0 disconnects
them to measure the storage path alone.
"""

import os

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.monitoring.ingest import Batch, _announce, _resolve_series
from apps.monitoring.models import Sample, series_key
from apps.monitoring.permissions import CanIngestMetrics
from apps.monitoring.signals import samples_ingested
from wedsync_ops.urls import urlpatterns as project_urls


class SampleSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", max_length=200)
    labels = serializers.DictField(child=serializers.CharField(max_length=256), required=False)
    value = serializers.FloatField()
    ts = serializers.FloatField(required=False)


class BatchSerializer(serializers.Serializer):
    samples = SampleSerializer(many=True)


class BaselineIngestView(APIView):
    permission_classes = [CanIngestMetrics]
    throttle_classes: list = []

    def post(self, request):
        import time

        from django.db import transaction

        serializer = BatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        now = time.time()
        batch = Batch()
        for s in serializer.validated_data["samples"]:
            batch.names.append(s["name"])
            batch.labels.append(s.get("labels", {}))
            batch.keys.append(series_key(s["name"], s.get("labels", {})))
            batch.ts.append(s.get("ts", now))
            batch.values.append(s["value"])
        with transaction.atomic():
            ids = _resolve_series(batch)
            Sample.objects.bulk_create(
                [
                    Sample(series_id=sid, ts=ts, value=v)
                    for sid, ts, v in zip(ids, batch.ts, batch.values, strict=True)
                ]
            )
            announced = list(zip(batch.names, batch.labels, batch.ts, batch.values, strict=True))
            transaction.on_commit(lambda: _announce(announced))
        return Response({"accepted": len(batch)}, status=202)


if os.environ.get("BENCH_INGEST_RECEIVERS") == "0":
    samples_ingested.receivers = []
    samples_ingested.sender_receivers_cache.clear()

urlpatterns = [
    path("bench/baseline-metrics/", BaselineIngestView.as_view()),
    *project_urls,
]
