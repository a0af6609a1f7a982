#!/usr/bin/env python
"""Soak: the gateway at wedding-day load for N minutes; RSS growth and errors.

Starts one Daphne (and nothing else) against the full stack, connects CLIENTS real
WebSocket clients (several suppliers, each subscribed to its live weddings), publishes
through POST /api/v1/realtime/publish/ at a wedding-day shape (quiet, ceremony peak,
reception hum) around RATE per second, and samples the Daphne process's RSS. Clients
reconnect with `since` as a supplier app does, so "lost" means lost after replay.

Figures: RSS growth from the end of warm-up to the end (goal <= 5 %), errors (non-202
publishes, error frames, unexpected closes, messages never delivered; goal 0), delivery
Not part of run_all (minutes, not seconds); ends with a RESULT line.

    .venv/bin/python bench/soak.py --minutes 30 [--clients 300] [--rate 40] [--out bench/SOAK.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def shape(progress: float) -> float:
    """Publish-rate multiplier over a wedding day: morning, ceremony peak, reception hum."""
    return 0.4 + 1.2 * math.exp(-(((progress - 0.5) / 0.18) ** 2))


def prepare(suppliers: int) -> tuple[str, list[tuple[str, list[str]]]]:
    """A staff token and, per supplier, (gateway token, its live wedding topics)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from apps.weddings.models import Region, Supplier, Venue, Wedding

    user, _ = User.objects.get_or_create(username="soak-publisher")
    user.groups.add(Group.objects.get_or_create(name="operators")[0])
    token = Token.objects.get_or_create(user=user)[0].key
    region, _ = Region.objects.get_or_create(
        code="soak", defaults={"name": "Soak", "timezone": "Europe/London"}
    )
    out = []
    now = timezone.now()
    for i in range(suppliers):
        supplier, _ = Supplier.objects.get_or_create(
            name=f"Soak supplier {i}", defaults={"kind": "photographer"}
        )
        supplier.max_connections = 10_000
        supplier.max_messages_per_second = 1000
        supplier.save()
        venue, _ = Venue.objects.get_or_create(
            name=f"Soak venue {i}",
            defaults={"venue_type": "garden", "region": region, "timezone": "Europe/London"},
        )
        local = now.astimezone(venue.tz)
        wedding = Wedding.objects.filter(venue=venue, couple_name=f"Soak couple {i}").first()
        if wedding is None or not (wedding.starts_at <= now <= wedding.ends_at):
            Wedding.objects.filter(venue=venue).delete()
            start, end = local - timedelta(hours=1), local + timedelta(hours=5)
            wedding = Wedding.objects.create(
                date=start.date(),
                ceremony_time=start.time().replace(microsecond=0),
                reception_end_time=end.time().replace(microsecond=0),
                venue=venue,
                couple_name=f"Soak couple {i}",
                status="in_progress",
            )
        wedding.suppliers.add(supplier)
        out.append((supplier.issue_token(), [f"wedding:{wedding.id}"]))
    return token, out


def rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True))


def publish(base: str, token: str, topic: str, data: dict) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/realtime/publish/",
        data=json.dumps({"topic": topic, "data": data}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return -1


async def run(args, staff_token: str, suppliers: list, base: str, ws_base: str, pid: int) -> dict:
    from tests.proof.gateway_client import GatewayClient

    clients = []
    for i in range(args.clients):
        token, topics = suppliers[i % len(suppliers)]
        clients.append(GatewayClient(f"{ws_base}/ws/realtime/?token={token}", topics))
    tasks = []
    for client in clients:  # a ramp, as apps reconnect through the morning
        tasks.append(asyncio.create_task(client.run()))
        await asyncio.sleep(args.ramp / max(1, args.clients))
    await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 120)

    total = args.minutes * 60
    warmup = min(60.0, total * 0.1)
    published: dict[str, list[int]] = {}
    statuses: dict[int, int] = {}
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    stop = threading.Event()
    topics = [t for _, ts in suppliers for t in ts]

    lock = threading.Lock()

    def publisher(k: int) -> None:
        # Each of P threads publishes every P-th message, paced to the shaped rate.
        n = k
        while not stop.is_set():
            elapsed = time.monotonic() - started
            rate = args.rate * shape(min(1.0, elapsed / total)) / args.publishers
            t0 = time.monotonic()
            topic = topics[n % len(topics)]
            status = publish(base, staff_token, topic, {"n": n, "t": time.time()})
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 202:
                    published.setdefault(topic, []).append(n)
            n += args.publishers
            time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - t0)))

    threads = [
        threading.Thread(target=publisher, args=(k,), daemon=True) for k in range(args.publishers)
    ]
    for thread in threads:
        thread.start()
    rss_warm = None
    while time.monotonic() - started < total:
        await asyncio.sleep(min(10.0, total / 20))
        elapsed = time.monotonic() - started
        now_rss = rss(pid)
        samples.append((round(elapsed, 1), now_rss))
        if rss_warm is None and elapsed >= warmup:
            rss_warm = now_rss
        connected = sum(c.connected.is_set() for c in clients)
        print(
            f"  t={elapsed:6.0f}s rss={now_rss / 2**20:7.1f} MiB connected={connected}/"
            f"{len(clients)} published={sum(len(v) for v in published.values())} "
            f"statuses={statuses}",
            flush=True,
        )
    stop.set()
    for thread in threads:
        thread.join(30)
    await asyncio.sleep(3)  # the last deliveries
    lost = 0
    for client in clients:
        for topic in client.topics:
            got = {d.get("n") for d in client.data(topic) if isinstance(d, dict)}
            lost += sum(1 for n in published.get(topic, []) if n not in got)
    for client in clients:
        client.stop = True
    await asyncio.gather(*tasks, return_exceptions=True)
    closes: dict = {}
    for client in clients:
        for code in client.closes:
            closes[str(code)] = closes.get(str(code), 0) + 1
    error_frames = sum(len(c.errors) for c in clients)
    rss_end = samples[-1][1]
    return {
        "samples": samples,
        "rss_warm": rss_warm or samples[0][1],
        "rss_end": rss_end,
        "statuses": statuses,
        "lost": lost,
        "closes": closes,
        "error_frames": error_frames,
        "published": sum(len(v) for v in published.values()),
        "deliveries_expected": sum(len(published.get(t, [])) for c in clients for t in c.topics),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--suppliers", type=int, default=6)
    parser.add_argument("--rate", type=float, default=40.0, help="publishes/s at the base")
    parser.add_argument("--publishers", type=int, default=4, help="HTTP publisher threads")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to connect all")
    parser.add_argument("--out", default=None, help="write a Markdown summary here")
    parser.add_argument("--quick", action="store_true", help="1 minute, 60 clients")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.clients = 1.0, 60
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wedsync_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("REDIS_PREFIX", "wsosoak")
    os.environ.setdefault("SECRET_KEY", "soak-" + secrets.token_hex(32))
    os.environ.update(DEBUG="false", HTTPS="false", THROTTLE_USER="100000000/min")

    from _servers import start_daphne
    from run_all import prepare_database

    prepare_database(dict(os.environ))
    staff_token, suppliers = prepare(args.suppliers)
    server = start_daphne(
        {**os.environ, "RUN_EMBEDDED_SCHEDULER": "false", "CONN_MAX_AGE": "60"}, name="soak"
    )
    base, ws_base = server.url, server.ws_url
    print(
        f"soak: {args.minutes} min, {args.clients} clients, {args.suppliers} suppliers, "
        f"~{args.rate}/s publishes (x0.4..1.6 wedding-day shape), Daphne pid {server.pid}",
        flush=True,
    )
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        result = asyncio.run(run(args, staff_token, suppliers, base, ws_base, server.pid))
    finally:
        server.stop()
    growth = (result["rss_end"] - result["rss_warm"]) / result["rss_warm"] * 100
    errors = (
        sum(v for k, v in result["statuses"].items() if k != 202)
        + result["error_frames"]
        + result["lost"]
    )
    log_text = server.log.read_text(errors="replace")
    tracebacks = log_text.count("Traceback")
    print(
        f"RSS {result['rss_warm'] / 2**20:.1f} MiB after warm-up -> "
        f"{result['rss_end'] / 2**20:.1f} MiB at the end ({growth:+.2f} %); "
        f"published {result['published']}, lost {result['lost']} of "
        f"{result['deliveries_expected']} deliveries, error frames {result['error_frames']}, "
        f"statuses {result['statuses']}, client closes {result['closes']}, "
        f"tracebacks in the Daphne log {tracebacks}"
    )
    figures = [
        {
            "name": "rss_growth",
            "value": round(growth, 2),
            "unit": "%",
            "baseline": round(result["rss_warm"] / 2**20, 1),
            "ratio": round(result["rss_end"] / result["rss_warm"], 4),
            "goal": "<= 5 % (baseline: MiB after warm-up)",
        },
        {
            "name": "errors",
            "value": errors + tracebacks,
            "unit": "count",
            "baseline": None,
            "ratio": None,
            "goal": "<= 0",
        },
        {
            "name": "deliveries",
            "value": result["deliveries_expected"] - result["lost"],
            "unit": "messages",
            "baseline": result["deliveries_expected"],
            "ratio": 1.0
            if not result["deliveries_expected"]
            else round(1 - result["lost"] / result["deliveries_expected"], 6),
            "goal": "ratio >= 1",
        },
    ]
    if args.out:
        lines = [
            "# Soak run",
            "",
            f"- Started {started_at}; {args.minutes} min; {args.clients} clients over "
            f"{args.suppliers} suppliers; ~{args.rate} publishes/s shaped x0.4..x1.6.",
            f"- RSS after warm-up {result['rss_warm'] / 2**20:.1f} MiB, at the end "
            f"{result['rss_end'] / 2**20:.1f} MiB: **{growth:+.2f} %** (goal <= 5 %).",
            f"- Published {result['published']}; deliveries {result['deliveries_expected']}, "
            f"lost {result['lost']}; error frames {result['error_frames']}; publish statuses "
            f"{result['statuses']}; client reconnects {result['closes']}; tracebacks "
            f"{tracebacks}.",
            "",
            "| t (s) | RSS (MiB) |",
            "|---:|---:|",
            *[f"| {t:.0f} | {r / 2**20:.1f} |" for t, r in result["samples"]],
            "",
        ]
        Path(args.out).write_text("\n".join(lines))
    print("RESULT " + json.dumps({"bench": "soak", "figures": figures}))


if __name__ == "__main__":
    main()
