"""Building remote-write bodies the way Prometheus does (snappy block + protobuf)."""

from __future__ import annotations

import cramjam

from apps.monitoring.prom_proto import WriteRequest

CONTENT_TYPE = "application/x-protobuf"
HEADERS = {
    "HTTP_CONTENT_ENCODING": "snappy",
    "HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION": "0.1.0",
}


def write_request(series: list[tuple[dict[str, str], list[tuple[float, int]]]]) -> bytes:
    """series: [(labels incl. __name__, [(value, timestamp ms), ...])] -> raw protobuf."""
    request = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for value, stamp in samples:
            ts.samples.add(value=value, timestamp=stamp)
    return request.SerializeToString()


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))
