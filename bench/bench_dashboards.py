#!/usr/bin/env python
"""Live dashboards, full stack, measured in Chromium and with headless /ws/ops/ clients.

Figures (each with a baseline measured in the same run):

1. first_full_render: a 12-widget dashboard (9 charts, 3 metrics; 12 series with 24 h of
   5-second samples each = 207,360 samples) opened in Chromium at 1280x800, from navigation
   start until every widget has drawn its first snapshot. Baseline: the same page with
   downsampling off (`?downsample=0`: every raw sample goes to the browser, ~17,280 points
   a series). Goal <= 1 s.
2. ingest_to_widget_p95: POST /api/v1/metrics/ of one sample -> the metric widget's text
   shows the value (a MutationObserver stamps the time in the page; same machine clock).
   Baseline: the ingest request's own round trip (what storing the sample costs).
   Goal p95 <= 300 ms.
3. fanout_delivery_p99 with 200 headless clients (websockets package) subscribed to the
   12 series, one update per second per series through the real path (ingest() ->
   samples_ingested -> one PUBLISH -> the Daphne's hub -> sockets), and Daphne's CPU.
   Baseline: the same load through Channels groups (DASHBOARDS_LIVE_TRANSPORT=groups).

    .venv/bin/python bench/bench_dashboards.py [--quick]

DATABASE_URL / REDIS_URL default to a dedicated local database (created and migrated if
missing). The machine is shared with other engineers' work: figures are noisy (up to 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_bench_dashboards"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
SLUG = "bench-12"
SERIES = [f"bench_dash_s{i:02d}" for i in range(12)]
METRIC_SERIES = SERIES[9:]
DAY = 86400
STEP = 5.0
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def env() -> dict:
    return bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobenchdash",
        LOG_LEVEL="WARNING",
        THROTTLE_USER="100000000/min",
    )


def setup_django(e: dict) -> None:
    os.environ.update(e)
    ensure_database(e["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=e, check=True
    )
    import django

    django.setup()


def seed(now: float) -> None:
    """12 series of 24 h at 5 s (kept between runs; only the missing tail is added)."""
    from apps.dashboards.models import Dashboard, Widget
    from apps.monitoring.ingest import ingest
    from apps.monitoring.query import latest
    from apps.monitoring.rollups import rollup_all

    newest = max((r["ts"] for r in latest(SERIES[0])), default=0.0)
    start = max(now - DAY, newest + STEP)
    n = int((now - start) / STEP)
    if n > 0:
        print(f"seeding {n * len(SERIES):,} samples ...", flush=True)
        t0 = time.perf_counter()
        batch: list[dict] = []
        for k in range(n):
            ts = start + k * STEP
            for i, name in enumerate(SERIES):
                value = 100 + 40 * ((k // (60 + i * 7)) % 5) + (k * (i + 3)) % 17
                batch.append({"name": name, "labels": {}, "value": float(value), "ts": ts})
            if len(batch) >= 19_000:
                ingest(batch, now=now)
                batch = []
        if batch:
            ingest(batch, now=now)
        rollup_all(now=now)
        print(f"  seeded in {time.perf_counter() - t0:.1f} s", flush=True)
    dashboard, created = Dashboard.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench: 12 widgets", "default_range": "24h", "shared": True}
    )
    if created:
        widgets = [
            Widget(
                dashboard=dashboard,
                kind="chart",
                title=f"Chart {name}",
                queries=[{"name": name, "matchers": {}, "agg": "max"}],
                position=i,
                width=4,
                height=2,
            )
            for i, name in enumerate(SERIES[:9])
        ] + [
            Widget(
                dashboard=dashboard,
                kind="metric",
                title=f"Metric {name}",
                queries=[{"name": name, "matchers": {}, "agg": "last"}],
                position=9 + i,
                width=4,
                height=2,
            )
            for i, name in enumerate(METRIC_SERIES)
        ]
        Widget.objects.bulk_create(widgets)


def operator_session_and_token() -> tuple[str, str]:
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    op, _ = User.objects.get_or_create(username="bench-dash-operator")
    op.groups.add(Group.objects.get_or_create(name="operators")[0])
    admin, _ = User.objects.get_or_create(username="bench-dash-admin", defaults={"is_staff": True})
    admin.groups.add(Group.objects.get_or_create(name="admins")[0])
    client = Client()
    client.force_login(op)
    return client.cookies["sessionid"].value, Token.objects.get_or_create(user=admin)[0].key


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# --- 1 and 2: in Chromium ------------------------------------------------------------


def browser_figures(base: str, session: str, token: str, renders: int, pushes: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"render_ms": [], "render_raw_ms": [], "points": None, "points_raw": None}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()

        def render(query: str) -> tuple[float, int]:
            page.goto(f"{base}/dashboards/{SLUG}/{query}")
            page.wait_for_function(
                "() => window.wsoDashboard && window.wsoDashboard.firstRenderMs !== undefined",
                timeout=120_000,
            )
            phases = page.evaluate(
                """() => {
                  const nav = performance.getEntriesByType('navigation')[0];
                  const res = performance.getEntriesByType('resource')
                    .find(r => r.name.includes('plotly'));
                  const m = n => (performance.getEntriesByName(n)[0] || {}).startTime;
                  return {html: nav.responseEnd, dom_interactive: nav.domInteractive,
                          plotly_loaded: res && res.responseEnd, ws_open: m('wso-ws-open'),
                          snapshot_start: m('wso-snapshot-start'),
                          snapshot_fetched: m('wso-snapshot-fetched'), rendered: m('wso-rendered')};
                }"""
            )
            out.setdefault("phases" + query, []).append(
                {k: round(v or 0) for k, v in phases.items()}
            )
            return page.evaluate(
                "() => [window.wsoDashboard.firstRenderMs, window.wsoDashboard.firstPoints]"
            )

        render("")  # warm caches (static files, connections)
        for _ in range(renders):
            ms, points = render("")
            out["render_ms"].append(ms)
            out["points"] = points
            ms, points = render("?downsample=0")
            out["render_raw_ms"].append(ms)
            out["points_raw"] = points
        print(f"  phases (ms since navigation start): {out.get('phases')}", flush=True)
        print(
            f"  render: {out['render_ms']} ms ({out['points']} points); "
            f"raw: {out['render_raw_ms']} ms ({out['points_raw']} points)",
            flush=True,
        )

        # Ingest -> widget text. The page stamps the wall-clock time the text changed.
        page.goto(f"{base}/dashboards/{SLUG}/")
        page.wait_for_selector("#conn[data-state=live]", timeout=60_000)
        page.wait_for_function("() => window.wsoDashboard.firstRenderMs !== undefined")
        page.evaluate(
            """() => {
              const el = document.querySelector('section.tile-metric [data-testid=metric-value]');
              window.benchSeen = {};
              const stamp = () => {
                window.benchSeen[el.textContent] = performance.timeOrigin + performance.now();
              };
              new MutationObserver(stamp)
                .observe(el, {childList: true, characterData: true, subtree: true});
            }"""
        )
        name = METRIC_SERIES[0]
        latencies, round_trips = [], []
        for i in range(pushes):
            value = 5000 + i  # shown as "5000", "5001", ...
            body = json.dumps(
                {"samples": [{"name": name, "value": value, "ts": time.time()}]}
            ).encode()
            req = urllib.request.Request(
                f"{base}/api/v1/metrics/",
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            )
            t0 = time.time()
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            round_trips.append((time.time() - t0) * 1000)
            page.wait_for_function(
                f"() => window.benchSeen['{value}'] !== undefined", timeout=10_000
            )
            seen = page.evaluate(f"() => window.benchSeen['{value}']")
            latencies.append(seen - t0 * 1000)
            time.sleep(0.2)
        out["latency_ms"] = latencies
        out["round_trip_ms"] = round_trips
        browser.close()
    return out


# --- 3: headless fan-out --------------------------------------------------------------


async def clients(
    ws_url: str,
    origin: str,
    session: str,
    n: int,
    seconds: float,
    ready: threading.Event,
    stats: dict,
) -> None:
    import websockets

    delays: list[float] = []
    gaps = [0]

    gate = asyncio.Semaphore(8)  # connect a few at a time, as pages opening across a morning

    async def one() -> None:
        for attempt in range(5):
            try:
                async with gate:
                    ws = await websockets.connect(
                        f"{ws_url}/ws/ops/",
                        additional_headers={"Cookie": f"sessionid={session}", "Origin": origin},
                        max_queue=None,
                        open_timeout=30,
                    )
                break
            except (OSError, TimeoutError, websockets.InvalidStatus):
                stats["connect_errors"] += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            stats["gave_up"] += 1
            return
        last: dict[str, int] = {}

        def handle(frame: dict, now: float) -> None:
            stats["ops"][frame.get("op")] += 1
            if frame.get("op") == "subscribed":
                last.update({v["stream"]: v["seq"] for v in frame["series"].values()})
                stats["subscribed"] += 1
            elif frame.get("op") == "samples":
                prev = last.get(frame["stream"])
                if prev is not None and frame["seq"] != prev + 1:
                    gaps[0] += 1
                last[frame["stream"]] = frame["seq"]
                if stats["measuring"]:
                    for _labels, ts, _value in frame["samples"]:
                        delays.append((now - ts) * 1000)

        try:
            async with ws:
                await ws.send(json.dumps({"op": "subscribe", "series": SERIES}))
                while True:
                    message = json.loads(await ws.recv())
                    now = time.time()
                    for frame in message["frames"] if message.get("op") == "batch" else [message]:
                        handle(frame, now)
        except websockets.ConnectionClosed as exc:
            # Said in the figures when a phase gets no samples (a crash would hide it).
            stats["closed"][exc.rcvd.code if exc.rcvd else 1006] += 1

    tasks = []
    for _ in range(n):
        tasks.append(asyncio.create_task(one()))
    # Measure with the clients that got in: one that gave up is counted, not waited for.
    while stats["subscribed"] + stats["gave_up"] < n:
        await asyncio.sleep(0.05)
    ready.set()
    await asyncio.sleep(seconds + 3)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stats["delays"] = delays
    stats["gaps"] = gaps[0]


def no_samples_reason(run: dict) -> str:
    """Why a fan-out phase measured nothing, from what its clients saw."""
    parts = [f"0 of {run['expected']} sample deliveries measured"]
    if run["subscribed"] < run["clients"]:
        parts.append(
            f"only {run['subscribed']} of {run['clients']} clients subscribed "
            f"({run['connect_errors']} connect errors)"
        )
    if run["closed"]:
        parts.append(f"connections closed by the server: {run['closed']}")
    parts.append(f"frames the clients received by op: {run['ops'] or 'none'}")
    if run["ops"].get("resync"):
        parts.append("the Daphne's live feed reconnected (resync): samples were dropped")
    return "; ".join(parts)


def fanout(port: int, daphne_pid: int, session: str, n: int, seconds: float) -> dict:
    import psutil

    from apps.monitoring.ingest import ingest

    stats = {
        "subscribed": 0,
        "gave_up": 0,
        "measuring": False,
        "connect_errors": 0,
        "closed": Counter(),
        "ops": Counter(),
    }
    ready = threading.Event()
    base = f"http://127.0.0.1:{port}"
    thread = threading.Thread(
        target=lambda: asyncio.run(
            clients(f"ws://127.0.0.1:{port}", base, session, n, seconds, ready, stats)
        ),
        daemon=True,
    )
    thread.start()
    t_connect = time.monotonic()
    if not ready.wait(180):
        print(f"  only {stats['subscribed']} of {n} clients subscribed after 180 s", flush=True)
    connect_s = time.monotonic() - t_connect
    daphne = psutil.Process(daphne_pid)
    daphne.cpu_percent(None)
    me = psutil.Process()
    me.cpu_percent(None)
    stats["measuring"] = True
    t_end = time.monotonic() + seconds
    ticks = 0
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        now = time.time()
        ingest([{"name": s, "labels": {}, "value": 100.0 + ticks % 7, "ts": now} for s in SERIES])
        ticks += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
    daphne_cpu = daphne.cpu_percent(None)
    client_cpu = me.cpu_percent(None)
    thread.join(30)
    delays = stats.get("delays", [])
    run = {
        "clients": n,
        "subscribed": stats["subscribed"],
        "connect_seconds": round(connect_s, 1),
        "connect_errors": stats["connect_errors"],
        "closed": dict(stats["closed"]),
        "ops": dict(stats["ops"]),
        "deliveries": len(delays),
        "expected": ticks * len(SERIES) * stats["subscribed"],
        "gaps": stats.get("gaps", 0),
        "p50_ms": pct(delays, 0.5) if delays else None,
        "p99_ms": pct(delays, 0.99) if delays else None,
        "daphne_cpu_percent": daphne_cpu,
        "bench_process_cpu_percent": client_cpu,
        "deliveries_per_s": len(delays) / seconds,
    }
    run["why_no_p99"] = None if delays else no_samples_reason(run)
    return run


def ms(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f} ms"


def wedding_day_figure(e: dict, session: str, runs: int) -> dict:
    """4. The seeded Wedding Day dashboard (13 widgets) in Chromium at 1440x900, from
    navigation start to Live with every chart drawn; baseline = the same page served by the
    code of the commit this branch started from (bench/_wedding_day.py), same run."""
    import _wedding_day

    subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "-v0"],
        cwd=ROOT,
        env=e,
        check=True,
        capture_output=True,
    )
    ref = os.environ.get("BENCH_BASELINE_REF") or _wedding_day.default_ref()
    with (
        start_daphne(e, name="wedding-day") as current,
        _wedding_day.start_baseline_daphne(e, ref) as baseline,
    ):
        result = _wedding_day.measure(current.url, baseline.url, session, runs, CHROMIUM_FLAGS)
    now, base = result["current"], result["baseline"]
    for label, d in (("this code", now), (f"baseline {ref[:10]}", base)):
        print(f"  wedding day, {label}: {[round(x) for x in d['render_ms']]} ms", flush=True)
        print(f"    phases (ms since navigation start): {d['phases']}", flush=True)
        for r in d["requests"]:
            print(
                f"    {r['url'][:90]}: starts {r['start']} ms, browser {r['total']} ms "
                f"(server wait {r['ttfb']} ms), plain client {r['curl_ms']} ms",
                flush=True,
            )
    return {
        "name": "wedding_day_first_render_1440",
        "value": round(now["median_ms"]),
        "unit": "ms",
        "baseline": round(base["median_ms"]),
        "ratio": round(now["median_ms"] / base["median_ms"], 3),
        "goal": "<= 1000 ms",
        "note": (
            f"median of {runs}; navigation start -> Live with every chart drawn; "
            f"baseline = commit {ref[:10]} served beside it (same database); "
            f"{len(now['requests'])} API requests now vs {len(base['requests'])}"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, help="fan-out clients (50 quick, 200 full)")
    parser.add_argument(
        "--wedding-day", action="store_true", help="only the Wedding Day first-render figure"
    )
    args = parser.parse_args()
    # --quick is a smoke run (< ~60 s on a quiet machine): fewer renders and 50 clients.
    renders, pushes, n_clients, seconds = (1, 5, 50, 4.0) if args.quick else (5, 30, 200, 20.0)
    n_clients = args.clients or n_clients

    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    e = env()
    setup_django(e)
    seed(time.time())
    session, token = operator_session_and_token()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=e,
        check=True,
    )
    wedding_day = wedding_day_figure(e, session, 2 if args.quick else 7)
    print(
        f"wedding day first render: {wedding_day['value']} ms (baseline "
        f"{wedding_day['baseline']} ms) ratio {wedding_day['ratio']}",
        flush=True,
    )
    if args.wedding_day:
        print("RESULT " + json.dumps({"bench": "dashboards", "figures": [wedding_day]}))
        return
    with start_daphne(e, name="dashboards") as daphne:
        b = browser_figures(daphne.url, session, token, renders, pushes)
        one = fanout(daphne.port, daphne.pid, session, 1, seconds)
        print(f"  fan-out 1 client (hub): {one}", flush=True)
        many = fanout(daphne.port, daphne.pid, session, n_clients, seconds)
        print(f"  fan-out {n_clients} clients (hub): {many}", flush=True)
    # Baseline: the same load through Channels groups (one group per metric); this process
    # ingests, so it must publish the groups' way too.
    os.environ["DASHBOARDS_LIVE_TRANSPORT"] = "groups"
    try:
        groups_env = {**e, "DASHBOARDS_LIVE_TRANSPORT": "groups"}
        with start_daphne(groups_env, name="dashboards-groups") as groups_daphne:
            groups = fanout(groups_daphne.port, groups_daphne.pid, session, n_clients, seconds)
            print(f"  fan-out {n_clients} clients (channel-layer groups): {groups}", flush=True)
    finally:
        os.environ.pop("DASHBOARDS_LIVE_TRANSPORT")

    print(f"load average at end: {os.getloadavg()}", flush=True)
    for label, run in (("hub, 1 client", one), ("hub", many), ("channel-layer groups", groups)):
        if run["why_no_p99"]:
            print(f"fan-out ({label}) has no p99: {run['why_no_p99']}", flush=True)
    render = statistics.median(b["render_ms"])
    render_raw = statistics.median(b["render_raw_ms"])
    lat95 = pct(b["latency_ms"], 0.95)
    rt95 = pct(b["round_trip_ms"], 0.95)
    print(
        f"first full render: {render:.0f} ms (baseline, downsampling off: "
        f"{render_raw:.0f} ms) ratio {render / render_raw:.3f}"
    )
    print(f"ingest -> widget p95: {lat95:.0f} ms (baseline, ingest round trip p95: {rt95:.0f} ms)")
    print(
        f"fan-out at {n_clients} clients: hub p99 {ms(many['p99_ms'])}, Daphne CPU "
        f"{many['daphne_cpu_percent']:.0f}%, delivered {many['deliveries']}/{many['expected']}; "
        f"channel-layer groups p99 {ms(groups['p99_ms'])}, CPU "
        f"{groups['daphne_cpu_percent']:.0f}%, "
        f"delivered {groups['deliveries']}/{groups['expected']}"
    )
    fanout_note = (
        f"{len(SERIES)} series x 1 update/s, sample timestamp -> client; hub "
        f"{many['deliveries']}/{many['expected']} delivered, {many['gaps']} gaps; "
        f"baseline = Channels groups: {groups['deliveries']}/{groups['expected']} "
        f"delivered, {groups['gaps']} gaps; 1 client (hub) p99 {ms(one['p99_ms'])}"
    )
    missing = [
        f"{label}: {run['why_no_p99']}"
        for label, run in (("hub", many), ("groups", groups))
        if run["why_no_p99"]
    ]
    if missing:
        fanout_note += "; no p99 for " + " | ".join(missing)
    result = {
        "bench": "dashboards",
        "figures": [
            wedding_day,
            {
                "name": "first_full_render_12_widgets_24h_5s",
                "value": round(render),
                "unit": "ms",
                "baseline": round(render_raw),
                "ratio": round(render / render_raw, 3),
                "goal": "<= 1000 ms",
                "note": (
                    f"median of {renders}; {b['points']} points sent vs {b['points_raw']} "
                    "with downsampling off; load average at the time in the log"
                ),
            },
            {
                "name": "ingest_to_widget_p95",
                "value": round(lat95),
                "unit": "ms",
                "baseline": round(rt95),
                "ratio": round(lat95 / rt95, 2) if rt95 else None,
                "goal": "<= 300 ms",
                "note": f"{pushes} pushes; baseline = the ingest request's round trip p95",
            },
            {
                "name": f"fanout_delivery_p99_{n_clients}_clients",
                "value": round(many["p99_ms"]) if many["p99_ms"] is not None else None,
                "unit": "ms",
                "baseline": round(groups["p99_ms"]) if groups["p99_ms"] is not None else None,
                "ratio": (
                    round(many["p99_ms"] / groups["p99_ms"], 3)
                    if many["p99_ms"] is not None and groups["p99_ms"]
                    else None
                ),
                "goal": "report",
                "note": fanout_note,
            },
            {
                "name": f"fanout_daphne_cpu_{n_clients}_clients",
                "value": round(many["daphne_cpu_percent"], 1),
                "unit": "% of one core",
                "baseline": round(groups["daphne_cpu_percent"], 1),
                "ratio": round(
                    many["daphne_cpu_percent"] / max(groups["daphne_cpu_percent"], 0.1), 3
                ),
                "goal": "report",
                "note": "Daphne process CPU over the run; baseline = Channels groups",
            },
        ],
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
