#!/usr/bin/env python
"""2,000 viewers on one wedding's live status page through one Daphne, beside the console.

Figures (baseline measured in the same run, on the same Daphne):

1. console_p95_with_viewers: p95 of the operators' console (GET /dashboards/wedding-day/,
   an operator's session) while 2,000 WebSocket viewers hold /ws/status/<token>/ open and
   an incident update is posted every 2 s (each one a fresh summary pushed to all 2,000).
   Baseline: the same requests with no viewers. Goal: ratio <= 1.5 (the console not slowed).
2. push_to_all_p99: from the update API request to the moment the last of the 2,000
   viewers has the frame that carries it (p50/p99 over the updates). Baseline: the update
   API's own round trip. Goal: <= 2000 ms.

    nice -n 5 .venv/bin/python bench/bench_statuspages.py [--quick]

The viewers are asyncio clients of the `websockets` package in this process (no
compression). DATABASE_URL / REDIS_URL default to a dedicated local database (created and
migrated if missing). The machine is shared with other engineers' work: figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_bench_status"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"


def env() -> dict:
    return bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobenchstatus",
        LOG_LEVEL="WARNING",
        THROTTLE_USER="100000000/min",
        # Every viewer here comes from 127.0.0.1: lift the per-IP budget for the run.
        STATUSPAGES_RATE_PER_MINUTE="1000000",
    )


def setup(e: dict) -> dict:
    os.environ.update(e)
    ensure_database(e["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=e, check=True
    )
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from apps.alerts import emergencies
    from apps.alerts.models import Incident
    from apps.dashboards.wedding_day import ensure_wedding_day
    from apps.statuspages import links
    from apps.weddings.models import Region, Supplier, Venue, Wedding

    ensure_wedding_day()
    region, _ = Region.objects.get_or_create(
        code="bench-status", defaults={"name": "Bench Region", "timezone": "Europe/London"}
    )
    Wedding.objects.filter(venue__region=region).delete()
    venue, _ = Venue.objects.get_or_create(
        name="Bench Beach", region=region, defaults={"venue_type": "beach", "timezone": "UTC"}
    )
    now = dt.datetime.now(dt.UTC)
    start = max(now - dt.timedelta(minutes=30), now.replace(hour=0, minute=1))
    end = min(now + dt.timedelta(hours=3), now.replace(hour=23, minute=58))
    wedding = Wedding.objects.create(
        date=now.date(),
        ceremony_time=start.time().replace(microsecond=0),
        reception_end_time=end.time().replace(microsecond=0),
        venue=venue,
        couple_name="Viral Livestream Couple",
    )
    for i in range(4):
        supplier, _ = Supplier.objects.get_or_create(name=f"Bench supplier {i}")
        wedding.suppliers.add(supplier)
    Incident.objects.filter(venue=venue).delete()
    incident = emergencies.trigger("latency_spike", wedding=wedding, reason="bench")
    issued = links.issue(wedding)
    op, _ = User.objects.get_or_create(username="bench-status-operator")
    op.groups.add(Group.objects.get_or_create(name="operators")[0])
    client = Client()
    client.force_login(op)
    return {
        "path": issued.path,
        "token": issued.token,
        "incident": incident.pk,
        "session": client.cookies["sessionid"].value,
        "api": Token.objects.get_or_create(user=op)[0].key,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def console_latencies(base: str, session: str, seconds: float, stop: threading.Event) -> list:
    """Sequential GETs of the console's Wedding Day dashboard, in ms."""
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        request = urllib.request.Request(
            f"{base}/dashboards/wedding-day/", headers={"Cookie": f"sessionid={session}"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            assert response.status == 200
        found.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    return found


def post_update(base: str, api: str, incident: int, n: int) -> float:
    body = json.dumps({"status": "monitoring", "body": f"Bench update {n}"}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/incidents/{incident}/public-updates/",
        data=body,
        method="POST",
        headers={"Authorization": f"Token {api}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


async def viewers(ws_url: str, n: int, seen: dict, state: dict, done: threading.Event):
    import websockets

    async def one(i: int) -> None:
        # Like the page's script: a refused handshake is retried with a growing backoff.
        for attempt in range(8):
            try:
                ws = await websockets.connect(ws_url, compression=None, open_timeout=120)
                await ws.recv()  # the first summary
                break
            except Exception as exc:
                state["retries"] += 1
                state["error"] = repr(exc)
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
        else:
            state["failed"] += 1
            return
        state["connected"] += 1
        async with ws:
            while not done.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                at = time.perf_counter()
                marker = raw.find("Bench update ")
                if marker >= 0:
                    label = raw[marker : marker + 20].split('"')[0]
                    seen.setdefault(label, []).append(at)

    tasks = []
    for i in range(n):
        tasks.append(asyncio.ensure_future(one(i)))
        if i % 20 == 19:
            await asyncio.sleep(0.1)  # a ramp of ~200 a second, as a link spreads
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--viewers", type=int, default=0, help="override the viewer count")
    args = parser.parse_args()
    n = args.viewers or (200 if args.quick else 2000)
    seconds = 10 if args.quick else 30
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n * 2 + 200)), hard))
    e = env()
    ctx = setup(e)
    with start_daphne(e) as server:
        urllib.request.urlopen(server.url + ctx["path"], timeout=30).read()
        print(f"baseline: console for {seconds}s with no viewers ...", flush=True)
        base_ms = console_latencies(server.url, ctx["session"], seconds, threading.Event())

        seen: dict[str, list[float]] = {}
        loop = asyncio.new_event_loop()
        state = {"connected": 0, "failed": 0, "retries": 0, "error": ""}
        done = threading.Event()
        ws_url = f"{server.ws_url}/ws/status/{ctx['token']}/"
        thread = threading.Thread(
            target=lambda: loop.run_until_complete(viewers(ws_url, n, seen, state, done)),
            daemon=True,
        )
        started = time.monotonic()
        thread.start()
        while state["connected"] + state["failed"] < n:
            if time.monotonic() - started > 300:
                raise SystemExit(f"viewers not all connected after 300 s: {state}")
            time.sleep(0.5)
        ramp = time.monotonic() - started
        if state["failed"]:
            print(f"{state['failed']} viewers could not connect: {state['error']}")
        print(
            f"{state['connected']} viewers connected in {ramp:.1f}s "
            f"({state['retries']} handshake retries); console + updates ..."
        )
        stop = threading.Event()
        load_ms: list[float] = []
        console = threading.Thread(
            target=lambda: load_ms.extend(
                console_latencies(server.url, ctx["session"], seconds, stop)
            )
        )
        console.start()
        api_ms, sent_at = [], {}
        for i in range(int(seconds / 2)):
            label = f"Bench update {i}"
            # From the request: the push leaves on commit, before the API has answered.
            sent_at[label] = time.perf_counter()
            api_ms.append(post_update(server.url, ctx["api"], ctx["incident"], i))
            time.sleep(2.0)
        console.join()
        time.sleep(3)
        done.set()
        thread.join(15)

    push_ms, complete = [], 0
    for label, at in sent_at.items():
        got = seen.get(label, [])
        if len(got) >= state["connected"]:
            complete += 1
            push_ms.append((max(got) - at) * 1000)
    base_p95, load_p95 = pct(base_ms, 95), pct(load_ms, 95)
    ratio = round(load_p95 / base_p95, 2)
    push_p99 = round(pct(push_ms, 99), 1) if push_ms else None
    print(f"console p50/p95 without viewers: {statistics.median(base_ms):.1f}/{base_p95:.1f} ms")
    print(f"console p50/p95 with {n} viewers: {statistics.median(load_ms):.1f}/{load_p95:.1f} ms")
    print(f"ratio (p95 with / without): {ratio}")
    print(f"updates reaching all {n} viewers: {complete}/{len(sent_at)}")
    if push_ms:
        print(f"push to all: p50 {pct(push_ms, 50):.0f} ms, p99 {push_p99:.0f} ms")
    print(f"update API round trip p50: {statistics.median(api_ms):.0f} ms")
    figures = [
        {
            "name": f"console_p95_with_{n}_viewers",
            "value": round(load_p95, 1),
            "unit": "ms",
            "baseline": round(base_p95, 1),
            "ratio": ratio,
            "goal": "ratio <= 1.5",
        },
        {
            "name": f"push_to_all_{n}_viewers_p99",
            "value": push_p99,
            "unit": "ms",
            "baseline": round(statistics.median(api_ms), 1),
            "ratio": round(push_p99 / statistics.median(api_ms), 2) if push_p99 else None,
            "goal": "<= 2000 ms",
        },
    ]
    print("RESULT " + json.dumps({"bench": "statuspages", "figures": figures}))


if __name__ == "__main__":
    main()
