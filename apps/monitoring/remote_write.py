"""Prometheus remote write 1.0: snappy-framed protobuf WriteRequest -> an ingest Batch.

The batch then takes the JSON ingest's own path (ingest.store): one transaction,
rollups, alert evaluation and live widgets. Like the JSON ingest a request is atomic:
one bad series or sample refuses it all, naming what was wrong.

Prometheus's values are wider than the JSON ingest's: NaN (an empty summary) and the
staleness marker (a NaN with a fixed payload, written when a series disappears) are
real samples to PromQL, so they are stored in PostgreSQL bit for bit. They are left out
of rollups and of what listeners (alerts, widgets) are told: they carry no measurement.
"""

from __future__ import annotations

import math
import struct
import time

import cramjam
from django.db import connection
from google.protobuf.message import DecodeError

from apps.monitoring import conf
from apps.monitoring.ingest import Batch, IngestError, _check_identity
from apps.monitoring.models import series_key
from apps.monitoring.prom_proto import WriteRequest

STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]
V2_PROTO = "io.prometheus.write.v2.request"


def is_stale(value: float) -> bool:
    return value != value and struct.pack("<d", value) == struct.pack("<Q", STALE_NAN_BITS)


def check_content_type(content_type: str) -> None:
    """415 for anything but 1.0 (so a 2.0 sender falls back), per the spec's negotiation."""
    kind, _, params = (content_type or "").partition(";")
    kind = kind.strip().lower()
    options = {}
    for part in params.split(";"):
        key, _, value = part.partition("=")
        options[key.strip().lower()] = value.strip().strip('"').lower()
    if kind and kind != "application/x-protobuf":
        raise IngestError(
            f"Content-Type {kind!r} is not remote write; send application/x-protobuf.",
            status=415,
            code="unsupported_media_type",
        )
    proto = options.get("proto", "")
    if proto and proto != "prometheus.writerequest":
        raise IngestError(
            f"proto={proto!r} is not supported; this receiver speaks remote write 1.0 "
            "(prometheus.WriteRequest).",
            status=415,
            code="unsupported_media_type",
        )


def decompress(body: bytes, encoding: str) -> bytes:
    """Snappy block format, refusing (413) a body that would inflate past the limit."""
    encoding = (encoding or "snappy").strip().lower()
    if encoding != "snappy":
        raise IngestError(
            f"Content-Encoding {encoding!r} is not supported; remote write 1.0 is snappy.",
            status=415,
            code="unsupported_media_type",
        )
    limit = conf.MAX_DECOMPRESSED_BYTES
    try:
        size = cramjam.snappy.decompress_raw_len(body)
    except Exception:
        raise IngestError(
            "Body is not snappy block-compressed data.", code="invalid_snappy"
        ) from None
    if size > limit:
        raise IngestError(
            f"Body decompresses to {size} bytes; the limit is {limit}.",
            status=413,
            code="body_too_large",
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:
        raise IngestError(f"Body is not valid snappy data: {exc}", code="invalid_snappy") from None


def parse(raw: bytes) -> WriteRequest:
    try:
        return WriteRequest.FromString(raw)
    except DecodeError as exc:
        raise IngestError(
            f"Body is not a protobuf WriteRequest: {exc}", code="invalid_protobuf"
        ) from None


def to_batch(request: WriteRequest, now: float | None = None) -> Batch:
    """Every sample of every series, or IngestError naming each bad one (by series index)."""
    now = time.time() if now is None else now
    oldest = now - conf.RAW_RETENTION
    latest = now + conf.MAX_FUTURE_SECONDS
    keep_nan = connection.vendor == "postgresql"  # SQLite stores NaN as NULL
    total = sum(len(ts.samples) for ts in request.timeseries)
    if total > conf.MAX_SAMPLES_PER_BATCH:
        raise IngestError(
            f"{total} samples in one request; the limit is {conf.MAX_SAMPLES_PER_BATCH}.",
            status=413,
            code="too_many_samples",
        )
    batch = Batch(now=now)
    errors: list[dict] = []
    for index, series in enumerate(request.timeseries):
        labels: dict[str, str] = {}
        name = None
        for label in series.labels:
            if label.name == "__name__":
                name = label.value
            elif label.name in labels:
                errors.append(_error(index, f"labels.{label.name}", "is repeated"))
            else:
                labels[label.name] = label.value
        problems = _check_identity(name, labels)
        if problems:
            errors.extend(_error(index, f, m, name) for f, m in problems)
            continue
        key = series_key(name, labels)
        for number, sample in enumerate(series.samples):
            ts = sample.timestamp / 1000.0
            value = sample.value
            if not oldest <= ts <= latest:
                errors.append(
                    _error(
                        index,
                        f"samples[{number}].timestamp",
                        f"{sample.timestamp} ms is outside the accepted window "
                        f"(raw retention {conf.RAW_RETENTION} s back, "
                        f"{conf.MAX_FUTURE_SECONDS:.0f} s ahead)",
                        name,
                    )
                )
                continue
            if not keep_nan and math.isnan(value):
                continue
            batch.names.append(name)
            batch.labels.append(labels)
            batch.keys.append(key)
            batch.ts.append(ts)
            batch.values.append(value)
    if errors:
        bad = len({e["series"] for e in errors})
        raise IngestError(
            f"{bad} of {len(request.timeseries)} series are invalid; nothing was stored.",
            code="invalid_samples",
            errors=errors[:100],
        )
    return batch


def _error(index: int, field: str, message: str, name: str | None = None) -> dict:
    return {"series": index, "metric": name, "field": field, "message": message}
