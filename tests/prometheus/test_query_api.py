"""The Prometheus query API as Grafana calls it: envelope, error types, metadata calls,
and PromQL semantics on known samples (lookback, staleness, extrapolation)."""

from __future__ import annotations

import time

import pytest
from rest_framework.authtoken.models import Token

from apps.monitoring.ingest import ingest, store
from apps.monitoring.remote_write import STALE_NAN, to_batch
from tests.prometheus.helpers import write_request

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/prometheus/api/v1"
T0 = float(int(time.time()) - 3600)  # a whole second an hour ago


@pytest.fixture
def reader(client, operator_user):
    token = Token.objects.create(user=operator_user).key
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def write(series):
    from apps.monitoring.prom_proto import WriteRequest

    store(to_batch(WriteRequest.FromString(write_request(series))))


def test_instant_query_vector_with_lookback_and_staleness(reader):
    ms = int(T0 * 1000)
    write(
        [
            ({"__name__": "temp", "room": "a"}, [(20.0, ms), (21.0, ms + 60_000)]),
            ({"__name__": "temp", "room": "b"}, [(30.0, ms), (STALE_NAN, ms + 30_000)]),
        ]
    )
    body = reader.get(f"{BASE}/query", {"query": "temp", "time": T0 + 100}).json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    # b went stale at T0+30: gone, though its last real sample is inside the lookback.
    assert body["data"]["result"] == [
        {"metric": {"__name__": "temp", "room": "a"}, "value": [T0 + 100, "21"]}
    ]
    later = reader.get(f"{BASE}/query", {"query": "temp", "time": T0 + 60 + 301}).json()
    assert later["data"]["result"] == []  # past the 5-minute lookback


def test_range_query_rate_extrapolates_like_prometheus(reader):
    samples = [
        {"name": "hits_total", "value": float(v), "ts": T0 + 10 * i}
        for i, v in enumerate([0, 10, 20, 30, 5, 15])
    ]  # a counter reset after 30
    ingest(samples)
    body = reader.post(
        f"{BASE}/query_range",
        {"query": "increase(hits_total[60s])", "start": T0 + 60, "end": T0 + 60, "step": "15s"},
    ).json()
    # Window [T0, T0+60]: samples T0..T0+50, 50 s sampled, 10 s apart. Raw increase
    # 15 - 0 + 30 (the reset) = 45. Both gaps to the edges (0 s, 10 s) are under 1.1x the
    # sample spacing, so it extrapolates over them: 45 * (50 + 0 + 10) / 50.
    [series] = body["data"]["result"]
    assert series["metric"] == {}
    assert float(series["values"][0][1]) == pytest.approx(45 * 60 / 50)


def test_scalar_and_string_results(reader):
    body = reader.get(f"{BASE}/query", {"query": "1 + 2 * 3", "time": T0}).json()
    assert body["data"] == {"resultType": "scalar", "result": [T0, "7"]}


@pytest.mark.parametrize(
    ("params", "status", "kind", "words"),
    [
        ({"query": "sum(", "time": T0}, 400, "bad_data", "query"),
        (
            {"query": "label_replace(up, 'a', 'b', 'c', 'd')", "time": T0},
            422,
            "execution",
            "label_replace",
        ),
        ({"query": "up", "time": "yesterday"}, 400, "bad_data", "time"),
    ],
)
def test_errors_use_prometheus_types(reader, params, status, kind, words):
    response = reader.get(f"{BASE}/query", params)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error" and body["errorType"] == kind
    assert words in body["error"]


def test_range_query_refuses_too_many_points(reader):
    response = reader.get(
        f"{BASE}/query_range", {"query": "up", "start": 0, "end": 86400, "step": "1"}
    )
    assert response.status_code == 400
    assert "11,000 points" in response.json()["error"]


def test_labels_values_series_metadata_buildinfo(reader):
    ingest(
        [
            {"name": "jobs_total", "labels": {"queue": "mail"}, "value": 1.0},
            {"name": "jobs_total", "labels": {"queue": "sms"}, "value": 2.0},
            {"name": "workers", "labels": {"pool": "x"}, "value": 3.0},
        ]
    )
    assert reader.get(f"{BASE}/labels").json()["data"] == ["__name__", "pool", "queue"]
    assert reader.get(f"{BASE}/label/__name__/values").json()["data"] == ["jobs_total", "workers"]
    values = reader.get(f"{BASE}/label/queue/values", {"match[]": "jobs_total"}).json()
    assert values["data"] == ["mail", "sms"]
    series = reader.get(f"{BASE}/series", {"match[]": 'jobs_total{queue=~"m.*"}'}).json()
    assert series["data"] == [{"__name__": "jobs_total", "queue": "mail"}]
    assert reader.get(f"{BASE}/series").status_code == 400
    meta = reader.get(f"{BASE}/metadata").json()["data"]
    assert meta["jobs_total"][0]["type"] == "counter"
    info = reader.get(f"{BASE}/status/buildinfo").json()["data"]
    assert info["version"].startswith("2.")
    assert reader.get(f"{BASE}/rules").json()["data"] == {"groups": []}
    assert reader.get(f"{BASE}/alerts").json()["data"] == {"alerts": []}
    assert reader.get(f"{BASE}/query_exemplars", {"query": "up"}).json()["data"] == []


def test_anonymous_readers_are_refused(client):
    assert client.get(f"{BASE}/query", {"query": "up"}).status_code == 401
