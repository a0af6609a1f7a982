#!/usr/bin/env python
"""Prometheus ecosystem, full stack, two figures in one run:

1. Remote-write throughput: N shards (processes) each posting Prometheus's default
   2,000-sample requests (snappy protobuf) to /prometheus/api/v1/write, beside the JSON
   ingest (/api/v1/metrics/) given the same 2,000-sample batches by the same shards.
2. PromQL query_range latency over 24 h at 15 s step for 100 series: ours
   (/prometheus/api/v1/query_range) beside Debian's Prometheus answering the same query
   over the same samples (remote-written to both, Prometheus's receiver enabled).

    .venv/bin/python bench/bench_prometheus.py [--quick] [--shards 4] [--seconds 15]

The database (default wedsync_bench_prom) is TRUNCATEd between phases.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _servers import bench_env, ensure_database, free_port, spawn, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_bench_prom"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
BATCH = 2000
SERIES = 200
QUERY = "sum by (group) (rate(bench_requests_total[5m]))"


def _env() -> dict:
    return bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobench_prom",
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )


def _setup(env: dict) -> str:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    code = (
        "from django.contrib.auth.models import User, Group;"
        "from rest_framework.authtoken.models import Token;"
        "u, _ = User.objects.get_or_create(username='bench-prom');"
        "u.groups.add(Group.objects.get_or_create(name='admins')[0]);"
        "print(Token.objects.get_or_create(user=u)[0].key)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _truncate(env: dict) -> None:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("TRUNCATE monitoring_sample, monitoring_series")


def _remote_write_body(series: list[tuple[dict, list[tuple[float, int]]]]) -> bytes:
    import cramjam

    from apps.monitoring.prom_proto import WriteRequest

    request = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for value, stamp in samples:
            ts.samples.add(value=value, timestamp=stamp)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def _shard(port, kind, token, seconds, index, base_ms, results):
    import orjson

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    auth = {"Authorization": f"Bearer {token}"}
    sent, errors, n = 0, 0, 0
    per = BATCH // SERIES
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = base_ms + n * per * 10  # 10 ms apart; the shard label keeps series apart
        if kind == "remote_write":
            body = _remote_write_body(
                [
                    (
                        {
                            "__name__": f"bench_rw_{s % 10}",
                            "instance": f"host-{s}",
                            "shard": str(index),
                        },
                        [(float(n + k), t0 + k * 10) for k in range(per)],
                    )
                    for s in range(SERIES)
                ]
            )
            headers = {
                **auth,
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "snappy",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            }
            path, ok = "/prometheus/api/v1/write", 204
        else:
            samples = [
                {
                    "name": f"bench_rw_{s % 10}",
                    "labels": {"instance": f"host-{s}", "shard": str(index)},
                    "value": float(n + k),
                    "ts": (t0 + k * 10) / 1000,
                }
                for s in range(SERIES)
                for k in range(per)
            ]
            body = orjson.dumps({"samples": samples})
            # The JSON ingest takes DRF's "Token" scheme (remote write also takes Bearer).
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            path, ok = "/api/v1/metrics/", 202
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status == ok:
            sent += BATCH
        else:
            errors += 1
            if errors <= 3:
                print(f"  shard {index}: HTTP {response.status} {payload[:200]!r}", flush=True)
        n += 1
    results.put((sent, errors))


def _throughput(port, kind, token, shards, seconds) -> tuple[float, int]:
    results: mp.Queue = mp.Queue()
    base_ms = int((time.time() - 3000) * 1000)
    procs = [
        mp.Process(target=_shard, args=(port, kind, token, seconds, i, base_ms, results))
        for i in range(shards)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    collected = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    return sum(c[0] for c in collected) / wall, sum(c[1] for c in collected)


def _load_day(targets: list[tuple[str, dict]], series: int, end_ms: int) -> int:
    """24 h of a counter per series at 15 s, in time order, to every target."""
    step, points = 15_000, 24 * 240
    start_ms = end_ms - points * step
    per_request = BATCH // series
    sent = 0
    conns = {
        url: http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc, timeout=60)
        for url, _ in targets
    }
    for first in range(0, points, per_request):
        body = _remote_write_body(
            [
                (
                    {
                        "__name__": "bench_requests_total",
                        "instance": f"host-{s}",
                        "group": f"g{s % 5}",
                    },
                    [
                        (float((first + k) * (s + 1)), start_ms + (first + k) * step)
                        for k in range(min(per_request, points - first))
                    ],
                )
                for s in range(series)
            ]
        )
        for url, headers in targets:
            conn = conns[url]
            conn.request("POST", urllib.parse.urlsplit(url).path, body, headers)
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 204):
                raise RuntimeError(f"{url}: HTTP {response.status}")
        sent += series * per_request
    return sent


def _latency(url: str, params: dict, headers: dict, runs: int) -> tuple[float, int]:
    times, points = [], 0
    for _ in range(runs):
        request = urllib.request.Request(f"{url}?{urllib.parse.urlencode(params)}", headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as response:
            body = json.loads(response.read())
        times.append(time.perf_counter() - started)
        points = sum(len(s["values"]) for s in body["data"]["result"])
    return statistics.median(times), points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 15.0)
    runs = 3 if args.quick else 7
    env = _env()
    ensure_database(env["DATABASE_URL"])
    token = _setup(env)
    figures = []
    with start_daphne(env, name="bench-prom") as server:
        print(
            f"daphne on {server.port}; {args.shards} shards, {BATCH}-sample requests, "
            f"{seconds:.0f} s per phase",
            flush=True,
        )
        rates = {}
        for kind in ("remote_write", "json"):
            _truncate(env)
            rate, errors = _throughput(server.port, kind, token, args.shards, seconds)
            rates[kind] = rate
            print(f"{kind:12s} {rate:>10,.0f} samples/s  errors {errors}", flush=True)
        figures.append(
            {
                "name": "remote-write ingest",
                "value": round(rates["remote_write"]),
                "unit": "samples/s",
                "baseline": round(rates["json"]),
                "baseline_name": "JSON ingest, same batches",
                "ratio": round(rates["remote_write"] / rates["json"], 2),
                "goal": "ratio >= 1",
            }
        )

        _truncate(env)
        tsdb = Path(tempfile.mkdtemp(prefix="bench-prom-"))
        port = free_port()
        prometheus = spawn(
            [
                "/usr/bin/prometheus",
                f"--config.file={ROOT / 'bench' / 'prometheus_bench.yml'}",
                f"--storage.tsdb.path={tsdb}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-remote-write-receiver",
                "--log.level=warn",
            ],
            env,
            "bench-prometheus",
        )
        try:
            prom_url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{prom_url}/-/ready", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            end_ms = int(time.time() // 15 * 15 * 1000)
            rw = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
            loaded = _load_day(
                [
                    (
                        f"{server.url}/prometheus/api/v1/write",
                        {**rw, "Authorization": f"Bearer {token}"},
                    ),
                    (f"{prom_url}/api/v1/write", rw),
                ],
                100,
                end_ms,
            )
            print(f"loaded {loaded:,} samples (100 series x 24 h at 15 s) into both", flush=True)
            params = {
                "query": QUERY,
                "start": end_ms / 1000 - 86400 + 600,
                "end": end_ms / 1000,
                "step": "15",
            }
            ours, ours_points = _latency(
                f"{server.url}/prometheus/api/v1/query_range",
                params,
                {"Authorization": f"Bearer {token}"},
                runs,
            )
            theirs, their_points = _latency(f"{prom_url}/api/v1/query_range", params, {}, runs)
            print(
                f"query_range {QUERY!r}: ours {ours * 1000:.0f} ms ({ours_points} points), "
                f"Prometheus {theirs * 1000:.0f} ms ({their_points} points)",
                flush=True,
            )
            figures.append(
                {
                    "name": "PromQL query_range 24h/15s, 100 series",
                    "value": round(ours * 1000),
                    "unit": "ms",
                    "baseline": round(theirs * 1000),
                    "baseline_name": "Prometheus 2.42, same samples and query",
                    "ratio": round(ours / theirs, 1),
                    "goal": "informational (lower is better)",
                }
            )
        finally:
            prometheus.stop()
            shutil.rmtree(tsdb, ignore_errors=True)
    print("RESULT " + json.dumps({"bench": "prometheus", "figures": figures}), flush=True)


if __name__ == "__main__":
    main()
