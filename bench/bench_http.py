#!/usr/bin/env python
"""HTTP: an authenticated API call through the full stack's front door.

Figure: requests/s, p99 and errors of `GET /api/v1/whoami/` with a staff token (DRF,
token lookup, roles) through HAProxy to gunicorn (wedsync_ops/front.py: a gunicorn gthread
process per core × FRONT_HTTP_THREADS threads), from `wrk -t2 -c16` on the same host.
Baseline (same run, same app, same database, same client): one bare Daphne, as the
Procfile's `web` served HTTP before the front door.
Ratio = front door / bare Daphne. Goals: ratio >= 2.5, p99 <= 100 ms, 0 errors.

`--threads 2,4,8` also measures other thread counts side by side (the default is what
front.py uses); the machine's load average is printed with the figures.

    .venv/bin/python bench/bench_http.py [--quick] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne, start_front

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_bench_http"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
CONNECTIONS = 16
PATH = "/api/v1/whoami/"
DEFAULT_THREADS = 4  # front.py's FRONT_HTTP_THREADS default


def setup(env: dict) -> str:
    """Migrate and return a staff token (in a child: keeps this process light)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    code = (
        "from django.contrib.auth.models import Group, User;"
        "from rest_framework.authtoken.models import Token;"
        "u, _ = User.objects.get_or_create(username='bench-http', defaults={'is_staff': True});"
        "u.groups.add(Group.objects.get_or_create(name='operators')[0]);"
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


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str, seconds: float) -> dict:
    """`wrk -t2 -c16 --latency` against `url`: req/s, p50/p99 in ms, errors (socket
    errors, timeouts and non-2xx answers)."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--latency", "--timeout", "10s"]
        + ["-H", f"Authorization: Token {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float | None:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m[1]) * _UNITS[m[2]] if m else None

    requests = int(re.search(r"(\d+) requests in", out)[1])
    errors = 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m[1])
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "requests": requests,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": errors,
    }


def median_run(results: list[dict]) -> dict:
    """The round with the median rate, plus every round's errors (an error anywhere counts)."""
    ordered = sorted(results, key=lambda r: r["rps"])
    middle = dict(ordered[len(ordered) // 2])
    middle["errors_all_rounds"] = sum(r["errors"] for r in results)
    middle["rps_rounds"] = [round(r["rps"], 1) for r in results]
    cpu = sorted(
        r["server_cpu_ms_per_request"] for r in results if r.get("server_cpu_ms_per_request")
    )
    middle["server_cpu_ms_per_request"] = cpu[len(cpu) // 2] if cpu else None
    return middle


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children (gunicorn workers)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def measured(url: str, token: str, seconds: float, pids: list[int]) -> dict:
    """A wrk run plus the server side's CPU time per request: on a shared machine the rate
    follows other people's load, CPU per request much less so."""
    before = cpu_seconds(pids)
    result = wrk(url, token, seconds)
    spent = cpu_seconds(pids) - before
    result["server_cpu_ms_per_request"] = (
        round(1000 * spent / result["requests"], 2) if result["requests"] else None
    )
    return result


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", default="4", help="gunicorn threads per process, e.g. 2,4,8")
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 15.0
    env = bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobench_http",
        # The default per-user throttle (6,000/min) would measure the throttle, not the stack.
        THROTTLE_USER="100000000/min",
        LOG_LEVEL="WARNING",
    )
    ensure_database(env["DATABASE_URL"])
    token = setup(env)
    print(f"load average before: {load_average()}", flush=True)

    # The machine is shared: rounds alternate between the servers (all started at once and
    # idle while not measured) and each side's median round is its figure, so a burst of
    # someone else's load hurts both sides alike rather than one.
    thread_counts = [int(t) for t in args.threads.split(",")]
    rounds = 2 if args.quick else 5
    per_round = seconds / rounds * 2
    bare = start_daphne(env, name="http-bare")
    # One Daphne: this benchmark sends no WebSocket traffic (quicker start on a busy machine).
    doors = {
        t: start_front(env, name=f"http-front-{t}", http_threads=t, ws_processes=1)
        for t in thread_counts
    }
    runs: dict = {"bare": [], **{t: [] for t in thread_counts}}
    try:
        wrk(bare.url + PATH, token, 2)  # warm up
        for door in doors.values():
            wrk(door.url + PATH, token, 2)
        for r in range(rounds):
            runs["bare"].append(measured(bare.url + PATH, token, per_round, [bare.pid]))
            for t, door in doors.items():
                pids = [*door.pids(), door.proxy.pid]
                runs[t].append(measured(door.url + PATH, token, per_round, pids))
            print(
                f"round {r + 1}/{rounds}: bare {runs['bare'][-1]['rps']:.0f} req/s, "
                + ", ".join(f"{t} threads {runs[t][-1]['rps']:.0f}" for t in thread_counts)
                + f" (load {load_average()})",
                flush=True,
            )
    finally:
        bare.stop()
        for door in doors.values():
            door.stop()
    baseline = median_run(runs["bare"])
    print(f"baseline, one bare Daphne: {baseline}", flush=True)
    variants = []
    for t in thread_counts:
        result = {**median_run(runs[t]), "threads": t}
        variants.append(result)
        print(f"front door, gunicorn × {t} threads: {result}")
    figure = next((v for v in variants if v["threads"] == DEFAULT_THREADS), variants[0])
    ratio = figure["rps"] / baseline["rps"] if baseline["rps"] else None
    print(f"ratio (front door / bare Daphne): {ratio:.2f}", flush=True)
    print(f"load average after: {load_average()}")
    result = {
        "bench": "http",
        "load_average": load_average(),
        "variants": variants,
        "figures": [
            {
                "name": "api_requests_per_s",
                "value": round(figure["rps"], 1),
                "unit": "req/s",
                "baseline": round(baseline["rps"], 1),
                "ratio": round(ratio, 3) if ratio else None,
                "goal": "ratio >= 2.5",
            },
            {
                "name": "api_p99_latency",
                "value": figure["p99_ms"],
                "unit": "ms",
                "baseline": baseline["p99_ms"],
                "ratio": round(figure["p99_ms"] / baseline["p99_ms"], 2)
                if figure["p99_ms"] and baseline["p99_ms"]
                else None,
                "goal": "<= 100 ms",
            },
            {
                "name": "api_server_cpu_per_request",
                "value": figure["server_cpu_ms_per_request"],
                "unit": "ms",
                "baseline": baseline["server_cpu_ms_per_request"],
                "ratio": round(
                    figure["server_cpu_ms_per_request"] / baseline["server_cpu_ms_per_request"], 2
                )
                if figure["server_cpu_ms_per_request"] and baseline["server_cpu_ms_per_request"]
                else None,
                "goal": "(context: CPU the servers spent per request, proxy included)",
            },
            {
                "name": "api_errors",
                "value": figure["errors_all_rounds"],
                "unit": "requests",
                "baseline": baseline["errors_all_rounds"],
                "ratio": None,
                "goal": "<= 0",
            },
        ],
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
