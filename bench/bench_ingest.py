#!/usr/bin/env python
"""Ingest throughput over HTTP, full stack: POST /api/v1/metrics/ (orjson + COPY) against
a baseline DRF serializer + bulk_create endpoint, same Daphne, same data, same run.

1,000-sample batches (100 series x 10 timestamps), N concurrent keep-alive clients
(processes), through the full stack's front door (HAProxy, a gunicorn process per core;
`--via daphne`: bare Daphne processes instead), both endpoints
on the same servers. Goal: >= 100,000 samples/s and >= 3x the baseline.

    .venv/bin/python bench/bench_ingest.py [--quick] [--clients 4] [--seconds 20]

DATABASE_URL / REDIS_URL default to a dedicated local database (created if missing):
the benchmark TRUNCATEs monitoring_sample between phases, so never point it at data
you keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne, start_front

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_bench_ingest"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
BATCH = 1000
SERIES = 100


def _env() -> dict:
    return bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobench",
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
    )


def _setup(env: dict) -> str:
    """Migrate and return an API token of an admin (in a child: keeps this process light)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    code = (
        "from django.contrib.auth.models import User, Group;"
        "from rest_framework.authtoken.models import Token;"
        "u, _ = User.objects.get_or_create(username='bench-ingest');"
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
        conn.execute("TRUNCATE monitoring_sample")


def _client(port, path, token, seconds, index, base_ts, results):
    """One keep-alive client posting batches until the deadline."""
    import orjson

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    accepted = 0
    latencies = []
    errors = 0
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # Unique timestamps per client and request: every sample is a new row.
        ts0 = base_ts + index * 0.001 + n * 0.01
        samples = [
            {
                "name": f"bench_metric_{s % 10}",
                "labels": {"instance": f"host-{s}", "client": "bench"},
                "value": float(s + n),
                "ts": ts0 + k * 0.0001,
            }
            for k in range(BATCH // SERIES)
            for s in range(SERIES)
        ]
        body = orjson.dumps({"samples": samples})
        started = time.perf_counter()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status == 202:
            accepted += orjson.loads(payload)["accepted"]
        else:
            errors += 1
            if errors <= 3:
                print(f"  client {index}: HTTP {response.status} {payload[:200]!r}", flush=True)
        n += 1
    results.put((accepted, latencies, errors))


def _phase(ports, path, token, clients, seconds, base_ts) -> dict:
    results: mp.Queue = mp.Queue()
    procs = [
        mp.Process(
            target=_client,
            args=(ports[i % len(ports)], path, token, seconds, i, base_ts, results),
        )
        for i in range(clients)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    collected = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    accepted = sum(c[0] for c in collected)
    latencies = sorted(lat for c in collected for lat in c[1])
    errors = sum(c[2] for c in collected)
    return {
        "samples_per_s": accepted / wall,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short phases (< 60 s in all)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--no-receivers",
        action="store_true",
        help="disconnect samples_ingested receivers (alerts, dashboards): storage path only",
    )
    parser.add_argument(
        "--via",
        choices=["front", "daphne"],
        default="front",
        help="front: every client through the full stack's front door (HAProxy, gunicorn "
        "per core; wedsync_ops/front.py); daphne: clients round-robin over bare Daphnes",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=os.cpu_count() or 1,
        help="Daphne processes, clients round-robin (default: one per core, as each web "
        "host runs Daphne x N; docs/proof.md)",
    )
    args = parser.parse_args()
    seconds = args.seconds or (6.0 if args.quick else 20.0)
    rounds = args.rounds or (1 if args.quick else 3)

    env = _env()
    env["BENCH_INGEST_RECEIVERS"] = "0" if args.no_receivers else "1"
    ensure_database(env["DATABASE_URL"])
    print(
        f"database {env['DATABASE_URL'].rsplit('@', 1)[-1]}, {args.clients} clients, "
        f"{BATCH}-sample batches, {seconds:.0f} s per phase, {rounds} round(s)",
        flush=True,
    )
    token = _setup(env)
    # The baseline endpoint lives in the bench's own URLconf (bench/ingest_baseline_*.py).
    denv = {**env, "DJANGO_SETTINGS_MODULE": "ingest_baseline_settings"}
    if args.via == "front":
        servers = [start_front(denv, name="ingest-front", http_processes=args.servers)]
        print(f"front door on {servers[0].port}: {args.servers} gunicorn", flush=True)
    else:
        servers = [start_daphne(denv, name="ingest") for _ in range(args.servers)]
        for server in servers:
            print(f"daphne on {server.port}, log {server.log}", flush=True)
    ports = [server.port for server in servers]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    ours, base = [], []
    try:
        for r in range(rounds):
            for label, path, sink in (
                ("thin parser + COPY", "/api/v1/metrics/", ours),
                ("DRF serializer + bulk_create", "/bench/baseline-metrics/", base),
            ):
                _truncate(env)  # each phase starts from an empty table: same timestamps are fine
                base_ts = time.time() - 1800
                result = _phase(ports, path, token, args.clients, seconds, base_ts)
                sink.append(result)
                print(
                    f"round {r + 1} {label:30s} {result['samples_per_s']:>10,.0f} samples/s  "
                    f"p50 {result['p50_ms'] or 0:.1f} ms  p99 {result['p99_ms'] or 0:.1f} ms  "
                    f"requests {result['requests']}  errors {result['errors']}",
                    flush=True,
                )
    finally:
        for server in servers:
            server.stop()
        _truncate(env)
    value = statistics.median(r["samples_per_s"] for r in ours)
    baseline = statistics.median(r["samples_per_s"] for r in base)
    ratio = value / baseline if baseline else None
    print(
        f"\ningest (median of {rounds}): {value:,.0f} samples/s; baseline {baseline:,.0f} "
        f"samples/s; ratio {ratio:.2f}x (goal >= 100,000 samples/s and >= 3x)"
    )
    print("note: client processes, the servers and PostgreSQL share this machine's cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figure = {
        "name": f"ingest samples/s ({args.clients} clients, {BATCH}-sample batches, "
        f"{args.servers} {'gunicorn behind HAProxy' if args.via == 'front' else 'Daphne'}, "
        f"receivers {'off' if args.no_receivers else 'on'})",
        "value": round(value),
        "unit": "samples/s",
        "baseline": round(baseline),
        "ratio": round(ratio, 2) if ratio else None,
        "goal": ">= 100000 samples/s and >= 3x",
    }
    print("RESULT " + json.dumps({"bench": "ingest", "figures": [figure]}))


if __name__ == "__main__":
    main()
