"""OTLP/HTTP metrics: the OpenTelemetry Python SDK's own exporter sends counters, gauges and
histograms to /otlp/v1/metrics; JSON, gzip and partial success by hand."""

from __future__ import annotations

import gzip
import time
import urllib.request

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from apps.monitoring.models import Sample, Series
from tests.prometheus.conftest import ingester_token

pytestmark = pytest.mark.django_db(transaction=True)


def provider(url: str, token: str, temporality=None):
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    exporter = OTLPMetricExporter(
        endpoint=f"{url}/otlp/v1/metrics",
        headers={"Authorization": f"Bearer {token}"},
        preferred_temporality=temporality or {},
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {
            "service.name": "checkin-api",
            "service.namespace": "wedsync",
            "service.instance.id": "pod-1",
        }
    )
    return MeterProvider(metric_readers=[reader], resource=resource), exporter


def latest(name: str) -> dict[tuple, float]:
    out = {}
    for series in Series.objects.filter(name=name):
        value = (
            Sample.objects.filter(series=series).order_by("-ts").values_list("value", flat=True)[0]
        )
        out[tuple(sorted(series.labels.items()))] = value
    return out


def test_sdk_exporter_sends_counters_gauges_histograms(daphne):
    from opentelemetry.metrics import Observation

    meters, _ = provider(daphne.url, ingester_token())
    meter = meters.get_meter("wedsync.tests")
    checkins = meter.create_counter("wedsync.checkins", unit="{checkin}")
    latency = meter.create_histogram(
        "wedsync.request.duration",
        unit="s",
        explicit_bucket_boundaries_advisory=[0.005, 0.05, 0.5, 5],
    )
    meter.create_observable_gauge(
        "wedsync.queue.fill",
        callbacks=[lambda options: [Observation(0.25, {"queue": "sms"})]],
        unit="1",
    )
    checkins.add(3, {"venue": "12"})
    checkins.add(2, {"venue": "12"})
    for seconds in (0.004, 0.02, 0.3, 7.0):
        latency.record(seconds, {"route": "/checkin"})
    assert meters.force_flush(10_000)
    meters.shutdown()

    [(labels, total)] = latest("wedsync_checkins_total").items()
    assert total == 5
    labels = dict(labels)
    assert labels["job"] == "wedsync/checkin-api" and labels["instance"] == "pod-1"
    assert labels["venue"] == "12" and labels["service_name"] == "checkin-api"
    assert list(latest("wedsync_queue_fill_ratio").values()) == [0.25]
    buckets = {
        dict(k)["le"]: v for k, v in latest("wedsync_request_duration_seconds_bucket").items()
    }
    assert buckets["+Inf"] == 4 and buckets["0.005"] == 1 and buckets["0.5"] == 3
    assert list(latest("wedsync_request_duration_seconds_count").values()) == [4]
    assert list(latest("wedsync_request_duration_seconds_sum").values())[0] == pytest.approx(7.324)


def test_delta_counters_read_as_cumulative(daphne):
    from opentelemetry.sdk.metrics import Counter
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    meters, _ = provider(daphne.url, ingester_token(), {Counter: AggregationTemporality.DELTA})
    counter = meters.get_meter("t").create_counter("wedsync.sent")
    counter.add(4)
    assert meters.force_flush(10_000)
    time.sleep(0.05)
    counter.add(6)
    assert meters.force_flush(10_000)
    meters.shutdown()
    values = list(
        Sample.objects.filter(series__name="wedsync_sent_total")
        .order_by("ts")
        .values_list("value", flat=True)
    )
    assert values == [4.0, 10.0]


def _request(metric_json: dict) -> ExportMetricsServiceRequest:
    body = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeMetrics": [{"metrics": [metric_json]}],
            }
        ]
    }
    return json_format.ParseDict(body, ExportMetricsServiceRequest())


def _post(url: str, token: str, body: bytes, content_type: str, gzipped: bool = False):
    request = urllib.request.Request(
        url, data=gzip.compress(body) if gzipped else body, method="POST"
    )
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", f"Bearer {token}")
    if gzipped:
        request.add_header("Content-Encoding", "gzip")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_json_gzip_and_partial_success(daphne):
    token = ingester_token()
    url = f"{daphne.url}/otlp/v1/metrics"
    now = time.time_ns()
    request = _request(
        {
            "name": "disk.used",
            "unit": "By",
            "gauge": {
                "dataPoints": [
                    {"asDouble": 1024, "timeUnixNano": str(now)},
                    {"asDouble": 1, "timeUnixNano": str(now - 10 * 86400 * 10**9)},  # too old
                ]
            },
        }
    )
    request.resource_metrics[0].scope_metrics[0].metrics.add(
        name="latency.exp"
    ).exponential_histogram.data_points.add()
    status, body = _post(
        url, token, json_format.MessageToJson(request).encode(), "application/json", gzipped=True
    )
    assert status == 200, body
    answer = json_format.Parse(body, ExportMetricsServiceResponse())
    assert answer.partial_success.rejected_data_points == 2
    assert "exponential" in answer.partial_success.error_message
    assert "older than the raw retention" in answer.partial_success.error_message
    assert list(latest("disk_used_bytes").values()) == [1024.0]

    status, body = _post(url, token, request.SerializeToString(), "application/x-protobuf")
    assert status == 200
    assert ExportMetricsServiceResponse.FromString(body).partial_success.rejected_data_points == 2

    assert _post(url, token, b"\x0a\xff\xff", "application/x-protobuf")[0] == 400
    assert _post(url, token, b"<xml/>", "text/xml")[0] == 415
    assert _post(url, "nope", request.SerializeToString(), "application/x-protobuf")[0] == 401
