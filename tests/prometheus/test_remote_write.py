"""Remote write 1.0 receiver: status codes senders act on, atomic batches, same storage."""

from __future__ import annotations

import base64
import math
import struct
import time

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from apps.monitoring import conf
from apps.monitoring.models import Sample, Series
from apps.monitoring.permissions import INGESTERS
from apps.monitoring.remote_write import STALE_NAN, is_stale
from tests.prometheus.helpers import CONTENT_TYPE, HEADERS, snappy, write_request

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/prometheus/api/v1/write"


@pytest.fixture
def ingester(make_user):
    user = make_user("prom-writer", role=None)
    user.groups.add(Group.objects.get_or_create(name=INGESTERS)[0])
    return Token.objects.create(user=user).key


def post(client, body: bytes, token: str | None, content_type=CONTENT_TYPE, **extra):
    headers = {**HEADERS, **extra}
    if token:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
    return client.post(URL, body, content_type=content_type, **headers)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_samples_are_stored_with_204(client, ingester):
    t = now_ms()
    body = write_request(
        [
            ({"__name__": "up", "job": "prometheus", "instance": "localhost:9090"}, [(1.0, t)]),
            ({"__name__": "http_requests_total", "code": "200"}, [(10.0, t - 1000), (12.5, t)]),
        ]
    )
    response = post(client, snappy(body), ingester)
    assert response.status_code == 204, response.content
    stored = {
        (s.series.name, s.value) for s in Sample.objects.select_related("series").order_by("ts")
    }
    assert stored == {("up", 1.0), ("http_requests_total", 10.0), ("http_requests_total", 12.5)}
    assert Series.objects.get(name="up").labels == {
        "job": "prometheus",
        "instance": "localhost:9090",
    }
    assert abs(Sample.objects.get(series__name="up").ts - t / 1000) < 1e-6


def test_token_scheme_and_basic_auth_with_the_token_as_password(client, ingester):
    body = snappy(write_request([({"__name__": "a"}, [(1.0, now_ms())])]))
    assert post(client, body, None, HTTP_AUTHORIZATION=f"Token {ingester}").status_code == 204
    basic = base64.b64encode(f"prometheus:{ingester}".encode()).decode()
    assert post(client, body, None, HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 204


def test_unauthenticated_and_operators_are_refused(client, operator_user):
    body = snappy(write_request([({"__name__": "a"}, [(1.0, now_ms())])]))
    assert post(client, body, None).status_code == 401
    token = Token.objects.create(user=operator_user).key
    assert post(client, body, token).status_code == 403
    assert Sample.objects.count() == 0


def test_nan_and_staleness_markers_are_kept_bit_for_bit(client, ingester):
    t = now_ms()
    body = write_request(
        [({"__name__": "q"}, [(1.0, t - 2000), (math.nan, t - 1000), (STALE_NAN, t)])]
    )
    assert post(client, snappy(body), ingester).status_code == 204
    import psycopg
    from django.db import connection

    connection.ensure_connection()
    # Binary results: the text format would print every NaN as plain 'NaN'.
    with psycopg.Cursor(connection.connection) as raw:
        raw.execute("SELECT value FROM monitoring_sample ORDER BY ts", binary=True)
        values = [row[0] for row in raw.fetchall()]
    assert values[0] == 1.0
    assert math.isnan(values[1]) and not is_stale(values[1])
    assert is_stale(values[2])
    assert struct.pack("<d", values[2]) == struct.pack("<d", STALE_NAN)


def test_unknown_fields_are_skipped(client, ingester):
    body = write_request([({"__name__": "a"}, [(3.0, now_ms())])])
    # WriteRequest.metadata (field 3, length-delimited) and a TimeSeries exemplar (field 3).
    body += b"\x1a\x04\x08\x01\x12\x00"
    assert post(client, snappy(body), ingester).status_code == 204
    assert Sample.objects.get().value == 3.0


def test_a_bad_series_refuses_the_whole_request_naming_it(client, ingester):
    t = now_ms()
    body = write_request(
        [
            ({"__name__": "good"}, [(1.0, t)]),
            ({"__name__": "bad-name"}, [(1.0, t)]),
            ({"__name__": "old"}, [(1.0, t - (conf.RAW_RETENTION + 60) * 1000)]),
        ]
    )
    response = post(client, snappy(body), ingester)
    assert response.status_code == 400
    detail = response.json()
    assert {(e["series"], e["field"]) for e in detail["errors"]} == {
        (1, "name"),
        (2, "samples[0].timestamp"),
    }
    assert Sample.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"not snappy at all", "invalid_snappy"), (snappy(b"\xff\xff\xff"), "invalid_protobuf")],
)
def test_undecodable_bodies_are_400(client, ingester, body, code):
    response = post(client, body, ingester)
    assert response.status_code == 400
    assert response.json()["error"] == code


def test_remote_write_2_is_refused_with_415_so_senders_fall_back(client, ingester):
    body = snappy(write_request([({"__name__": "a"}, [(1.0, now_ms())])]))
    v2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    response = post(client, body, ingester, content_type=v2)
    assert response.status_code == 415
    assert "io.prometheus.write.v2.request" in response.json()["detail"]
    v1 = "application/x-protobuf;proto=prometheus.WriteRequest"
    assert post(client, body, ingester, content_type=v1).status_code == 204


def test_size_limits_before_and_after_decompression(client, ingester, monkeypatch):
    raw = write_request([({"__name__": "a", "pad": "x" * 200}, [(1.0, now_ms())])] * 50)
    body = snappy(raw)
    monkeypatch.setattr(conf, "MAX_BODY_BYTES", len(body) - 1)
    response = post(client, body, ingester)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
    monkeypatch.setattr(conf, "MAX_BODY_BYTES", len(body) + 1)
    monkeypatch.setattr(conf, "MAX_DECOMPRESSED_BYTES", len(raw) - 1)
    response = post(client, body, ingester)
    assert response.status_code == 413 and "decompresses to" in response.json()["detail"]
    assert Sample.objects.count() == 0


def test_database_away_is_503_with_retry_after(client, ingester, monkeypatch):
    from django.db import OperationalError

    from apps.monitoring import prom_write_api

    def down(batch):
        raise OperationalError("connection refused")

    monkeypatch.setattr(prom_write_api, "store", down)
    body = snappy(write_request([({"__name__": "a"}, [(1.0, now_ms())])]))
    response = post(client, body, ingester)
    assert response.status_code == 503
    assert response["Retry-After"]
