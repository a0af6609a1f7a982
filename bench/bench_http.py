#!/usr/bin/env python
"""HTTP through Daphne: an authenticated API call against the cheapest endpoint.

Figure: requests/s of `GET /api/v1/whoami/` with a staff token (DRF, token lookup in
PostgreSQL, roles query), from keep-alive clients on 8 threads.
Baseline (same run, same server, same clients): `GET /healthz` (Django with no database).
Ratio = figure / baseline: the share of the raw request rate that the API stack keeps.

    .venv/bin/python bench/bench_http.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

from _servers import start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def staff_token() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    user, _ = User.objects.get_or_create(username="bench-http", defaults={"is_staff": True})
    user.groups.add(Group.objects.get_or_create(name="operators")[0])
    return Token.objects.get_or_create(user=user)[0].key


def load(port: int, path: str, headers: dict, seconds: float, threads: int) -> dict:
    """Closed-loop load: each thread sends one request after another on one connection."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - t0
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors[0],
        "rps": n / elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else None,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 15.0
    threads = 8

    token = staff_token()
    # The default per-user throttle (6,000/min) would measure the throttle, not the stack.
    server = start_daphne({**os.environ, "THROTTLE_USER": "100000000/min"}, name="http")
    port = server.port
    with server:
        load(port, "/healthz", {}, 1.0, threads)  # warm up
        baseline = load(port, "/healthz", {}, seconds, threads)
        print(f"baseline /healthz: {baseline}", flush=True)
        auth = {"Authorization": f"Token {token}"}
        figure = load(port, "/api/v1/whoami/", auth, seconds, threads)
        print(f"figure /api/v1/whoami/: {figure}", flush=True)
    ratio = figure["rps"] / baseline["rps"] if baseline["rps"] else None
    print(f"ratio (api / healthz): {ratio:.2f}")
    result = {
        "bench": "http",
        "figures": [
            {
                "name": "api_requests_per_s",
                "value": round(figure["rps"], 1),
                "unit": "req/s",
                "baseline": round(baseline["rps"], 1),
                "ratio": round(ratio, 3) if ratio else None,
                "goal": ">= 100 req/s (1 Daphne process, 8 clients)",
            },
            {
                "name": "api_p99_latency",
                "value": round(figure["p99_ms"], 1),
                "unit": "ms",
                "baseline": round(baseline["p99_ms"], 1),
                "ratio": round(figure["p99_ms"] / baseline["p99_ms"], 2),
                "goal": "<= 250 ms",
            },
            {
                "name": "api_errors",
                "value": figure["errors"],
                "unit": "requests",
                "baseline": baseline["errors"],
                "ratio": None,
                "goal": "<= 0",
            },
        ],
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
