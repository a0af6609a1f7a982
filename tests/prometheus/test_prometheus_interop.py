"""Debian's Prometheus remote-writes its own metrics to us; then the same PromQL asked of
Prometheus and of us over the same range must give the same series and points."""

from __future__ import annotations

import math
import time

import pytest

from tests.prometheus.conftest import (
    get_json,
    ingester_token,
    operator_token,
    remote_write_config,
    scalar_metrics,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

CORPUS = [
    "up",
    'up{job="prometheus"}',
    "prometheus_http_requests_total",
    'prometheus_http_requests_total{handler=~"/-/.*"}',
    'prometheus_http_requests_total{handler!~"/-/.*", code!="500"}',
    "rate(prometheus_http_requests_total[10s])",
    "irate(prometheus_http_requests_total[10s])",
    "increase(prometheus_tsdb_head_samples_appended_total[15s])",
    "rate(process_cpu_seconds_total[5s])",
    "delta(go_memstats_heap_alloc_bytes[10s])",
    "sum(rate(prometheus_http_requests_total[10s]))",
    "sum by (handler) (rate(prometheus_http_requests_total[10s]))",
    "sum without (instance) (rate(prometheus_http_requests_total[10s]))",
    "avg by (job) (scrape_duration_seconds)",
    "min(go_memstats_alloc_bytes)",
    "max by (job) (go_goroutines)",
    "count(prometheus_http_requests_total)",
    "count by (code) (prometheus_http_requests_total)",
    "topk(1, rate(prometheus_http_requests_total[10s]))",
    "histogram_quantile(0.9, rate("
    'prometheus_http_request_duration_seconds_bucket{handler="/metrics"}[10s]))',
    "histogram_quantile(0.5, sum by (le) (rate(prometheus_http_response_size_bytes_bucket[10s])))",
    "avg_over_time(go_goroutines[10s])",
    "min_over_time(go_memstats_heap_alloc_bytes[10s])",
    "max_over_time(scrape_duration_seconds[10s])",
    "sum_over_time(up[10s])",
    "count_over_time(up[10s])",
    "last_over_time(go_goroutines[5s])",
    "stddev_over_time(go_memstats_heap_alloc_bytes[10s])",
    "quantile_over_time(0.9, scrape_duration_seconds[10s])",
    "go_memstats_alloc_bytes / 1024",
    "2 * go_goroutines + 1",
    "go_goroutines > 5",
    "go_goroutines > bool 1000",
    "go_memstats_heap_alloc_bytes / go_memstats_heap_sys_bytes",
    "rate(prometheus_http_requests_total[10s]) > 0",
    "process_resident_memory_bytes - process_resident_memory_bytes offset 5s",
    "scalar(up) * 3",
    "-go_goroutines",
    "sum by (job) (up) == bool 1",
    "clamp_max(go_goroutines, 30) + abs(-up)",
    "up and on (job) go_goroutines",
    "time() - process_start_time_seconds",
    'go_gc_duration_seconds{quantile="1"} * 1000',
    'sum by (le) (prometheus_http_request_duration_seconds_bucket{handler="/metrics"})',
    "go_memstats_heap_alloc_bytes % 1000",
]


def _by_labels(result: list[dict]) -> dict[tuple, dict[float, float]]:
    return {
        tuple(sorted(s["metric"].items())): {round(t, 3): float(v) for t, v in s["values"]}
        for s in result
    }


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b)) or abs(a - b) < 1e-12


def test_prometheus_remote_writes_everything_and_promql_agrees(daphne, start_prometheus):
    token = ingester_token()
    reader = operator_token()
    prometheus = start_prometheus(remote_write_config(daphne.url, token))
    started = time.time()
    time.sleep(40)  # forty scrapes of about 400 series each

    def caught_up() -> bool:
        m = scalar_metrics(prometheus.url)
        sent = m.get(
            'prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="'
            + _remote_name(m)
            + '",url="'
            + daphne.url
            + '/prometheus/api/v1/write"}',
            0,
        )
        return sent >= started + 38

    wait_until(caught_up, 60, "remote write to catch up")
    counters = scalar_metrics(prometheus.url)

    def total(prefix: str) -> float:
        return sum(v for k, v in counters.items() if k.startswith(prefix))

    sent = total("prometheus_remote_storage_samples_total")
    assert sent > 10_000, counters
    assert total("prometheus_remote_storage_samples_failed_total") == 0
    assert total("prometheus_remote_storage_samples_retried_total") == 0
    assert total("prometheus_remote_storage_samples_dropped_total") == 0

    start = round(started + 12, 3)
    end = round(started + 36, 3)
    ours_url = f"{daphne.url}/prometheus/api/v1/query_range"
    theirs_url = f"{prometheus.url}/api/v1/query_range"
    mismatches = []
    for expr in CORPUS:
        params = {"query": expr, "start": start, "end": end, "step": "1.5"}
        theirs = get_json(theirs_url, params)
        ours = get_json(ours_url, params, token=reader)
        assert theirs["status"] == "success", (expr, theirs)
        assert ours["status"] == "success", (expr, ours)
        expected, got = _by_labels(theirs["data"]["result"]), _by_labels(ours["data"]["result"])
        if not expected:
            mismatches.append((expr, "Prometheus returned nothing: a useless corpus entry"))
            continue
        if set(expected) != set(got):
            mismatches.append((expr, "series", set(expected) ^ set(got)))
            continue
        for labels, points in expected.items():
            if set(points) != set(got[labels]):
                mismatches.append(
                    (expr, labels, "timestamps", sorted(set(points) ^ set(got[labels]))[:5])
                )
                break
            bad = [
                (t, v, got[labels][t]) for t, v in points.items() if not _same(v, got[labels][t])
            ]
            if bad:
                mismatches.append((expr, labels, bad[:3]))
                break
    assert not mismatches, mismatches
    assert len(CORPUS) >= 30

    # Instant queries (resultType vector / scalar) at one moment agree too.
    for expr in ["sum by (code) (prometheus_http_requests_total)", "scalar(up)", "rate(up[5s])"]:
        params = {"query": expr, "time": end}
        theirs = get_json(f"{prometheus.url}/api/v1/query", params)["data"]
        ours = get_json(f"{daphne.url}/prometheus/api/v1/query", params, token=reader)["data"]
        assert ours["resultType"] == theirs["resultType"], expr
        if theirs["resultType"] == "scalar":
            assert _same(float(ours["result"][1]), float(theirs["result"][1]))
        else:
            assert {
                tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in ours["result"]
            } == {
                tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in theirs["result"]
            }, expr


def _remote_name(metrics: dict[str, float]) -> str:
    for key in metrics:
        if key.startswith("prometheus_remote_storage_queue_highest_sent_timestamp_seconds{"):
            return key.split('remote_name="', 1)[1].split('"', 1)[0]
    return ""
