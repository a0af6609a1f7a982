"""The metrics HTTP API: JSON and Prometheus text ingest, limits, auth, range queries."""

from __future__ import annotations

import time

import orjson
import pytest
from django.contrib.auth.models import Group

from apps.monitoring import conf
from apps.monitoring.models import Sample, Series
from apps.monitoring.permissions import INGESTERS
from apps.monitoring.query import latest

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/metrics/"


def post_json(client, payload, **extra):
    return client.post(URL, orjson.dumps(payload), content_type="application/json", **extra)


def test_json_batch_is_accepted_with_202(admin_api):
    samples = [{"name": "wedsync_celery_workers", "value": 2}] * 1 + [
        {"name": "wedsync_celery_queue_length", "labels": {"queue": "celery"}, "value": 7}
    ]
    response = post_json(admin_api, {"samples": samples})
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 2}
    assert Sample.objects.count() == 2


def test_prometheus_text_is_accepted(admin_api):
    text = (
        "# HELP wedsync_gateway_connections Open connections\n"
        "# TYPE wedsync_gateway_connections gauge\n"
        "wedsync_gateway_connections 42\n"
        "# TYPE http_requests counter\n"
        'http_requests_total{method="get",code="200"} 1027\n'
    )
    response = admin_api.post(URL, text, content_type="text/plain; version=0.0.4")
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 2}
    labels = dict(Series.objects.values_list("name", "labels"))
    assert labels == {
        "wedsync_gateway_connections": {},
        "http_requests_total": {"method": "get", "code": "200"},
    }


def test_openmetrics_text_is_accepted_with_its_timestamps_in_seconds(admin_api):
    ts = round(time.time() - 5, 3)
    text = (
        "# TYPE wedsync_gateway_messages counter\n"
        f'wedsync_gateway_messages_total{{topic="wedding"}} 12.0 {ts}\n'
        "# EOF\n"
    )
    response = admin_api.post(URL, text, content_type="application/openmetrics-text; version=1.0.0")
    assert response.status_code == 202, response.content
    [stored] = latest("wedsync_gateway_messages_total", {"topic": "wedding"})
    assert stored["value"] == 12.0
    assert stored["ts"] == pytest.approx(ts, abs=0.001)


def test_bad_prometheus_text_is_400(admin_api):
    response = admin_api.post(URL, "this is { not prometheus", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_text"


def test_invalid_samples_are_named_by_index_and_nothing_is_stored(admin_api):
    payload = {"samples": [{"name": "a", "value": 1}, {"name": "a", "value": None}]}
    response = post_json(admin_api, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_samples"
    assert body["errors"] == [{"index": 1, "field": "value", "message": "must be a number"}]
    assert Sample.objects.count() == 0


def test_malformed_json_and_wrong_shape_are_400(admin_api):
    response = admin_api.post(URL, b"{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"
    response = post_json(admin_api, [1, 2])
    assert response.status_code == 400 and "samples" in response.json()["detail"]


def test_body_over_the_limit_is_413(admin_api, monkeypatch):
    monkeypatch.setattr(conf, "MAX_BODY_BYTES", 1000)
    payload = {"samples": [{"name": "m", "value": i} for i in range(100)]}
    response = post_json(admin_api, payload)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    assert Sample.objects.count() == 0


def test_cardinality_guard_is_429_naming_the_metric(admin_api, monkeypatch):
    monkeypatch.setattr(conf, "MAX_SERIES_PER_METRIC", 3)
    payload = {
        "samples": [{"name": "per_req", "labels": {"id": str(i)}, "value": 1} for i in range(4)]
    }
    response = post_json(admin_api, payload)
    assert response.status_code == 429
    assert "per_req" in response.json()["detail"]


def test_who_may_ingest(api_client, operator_api, make_user):
    payload = {"samples": [{"name": "m", "value": 1}]}
    assert post_json(api_client, payload).status_code == 401
    assert post_json(operator_api, payload).status_code == 403
    service = make_user("metrics-pusher", role=None)
    service.groups.add(Group.objects.get_or_create(name=INGESTERS)[0])
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=service)
    response = post_json(api_client, payload, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 202
    # The service account may push but not read.
    response = api_client.get(
        "/api/v1/metrics/query/?name=m", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 403


def test_query_endpoint_filters_by_label_and_steps(admin_api, operator_api):
    base = time.time() - 300
    base -= base % 60
    samples = [
        {"name": "wedsync_celery_queue_length", "labels": {"queue": q}, "value": v, "ts": base + i}
        for i in range(60)
        for q, v in (("celery", 3.0), ("alerts", 9.0))
    ]
    assert post_json(admin_api, {"samples": samples}).status_code == 202
    response = operator_api.get(
        "/api/v1/metrics/query/",
        {
            "name": "wedsync_celery_queue_length",
            "label.queue": "alerts",
            "start": base,
            "end": base + 60,
            "step": 30,
            "agg": "max",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["series"] == [
        {"labels": {"queue": "alerts"}, "points": [[base, 9.0], [base + 30, 9.0]]}
    ]
    assert body["source"] == "raw" and body["step"] == 30


def test_query_errors_name_the_parameter(operator_api):
    response = operator_api.get("/api/v1/metrics/query/", {"name": "m", "agg": "median"})
    assert response.status_code == 400 and "agg" in response.json()["detail"]
    response = operator_api.get("/api/v1/metrics/query/", {"name": "m", "start": "yesterday"})
    assert response.status_code == 400 and "start" in response.json()["detail"]
    response = operator_api.get("/api/v1/metrics/query/")
    assert response.status_code == 400 and "name" in response.json()["detail"]


def test_names_and_labels_for_the_explorer(admin_api, operator_api):
    post_json(
        admin_api,
        {
            "samples": [
                {"name": "b_metric", "labels": {"k": "v"}, "value": 1},
                {"name": "a_metric", "value": 1},
            ]
        },
    )
    assert operator_api.get("/api/v1/metrics/names/").json() == {"names": ["a_metric", "b_metric"]}
    body = operator_api.get("/api/v1/metrics/names/", {"name": "b_metric"}).json()
    assert body["labels"] == {"k": ["v"]}
