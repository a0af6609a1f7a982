"""Gateway benchmark: our hub against a stock Channels consumer + group_send, same run.

Figures (per Daphne process):
  1. subscribed, heartbeating connections held and RSS per connection;
  2. fan-out deliveries/s sustained (a burst of publishes to S subscribers of one topic);
  3. one publish to S subscribers: delivery latency p50/p99 over repeated probes.
The baseline is apps/realtime/baseline.py (one group per topic, channel-layer group_send,
the configured layer: channels_redis RedisPubSubChannelLayer), in a fresh Daphne.

Clients are real `websockets` clients spread over several processes (one Python client
process is the bottleneck otherwise). Client and server share this machine's cores, so
deliveries/s is bounded by the clients too: read it as a floor for the server.

    .venv/bin/python bench/bench_gateway.py [--quick] [--connections N] [--subscribers S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_gateway_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"


def log(*args) -> None:
    print(*args, flush=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- client processes ------------------------------------------------------------------


def client_process(url, n, topic, ready_q, result_q, stop_ev, counter, joined) -> None:
    asyncio.run(_client_main(url, n, topic, ready_q, result_q, stop_ev, counter, joined))


async def _client_main(url, n, topic, ready_q, result_q, stop_ev, counter, joined) -> None:
    import orjson
    import websockets

    # Few handshakes in flight per process: Daphne drops a socket whose app has not
    # accepted within --websocket_connect_timeout (5 s), so a deep queue only adds errors.
    sem = asyncio.Semaphore(6)
    connect_s: list[float] = []
    stats = {"pings": 0, "closed": 0, "phases": {}}
    local = [0]
    tasks: list[asyncio.Task] = []

    async def reader(ws):
        try:
            async for raw in ws:
                if raw.startswith('{"op":"ping"'):
                    stats["pings"] += 1
                    await ws.send('{"op":"pong"}')
                    continue
                now = time.time()
                frame = orjson.loads(raw)
                items = frame["messages"] if frame.get("op") == "batch" else [frame]
                for m in items:
                    data = m.get("data") or {}
                    phase = data.get("ph")
                    if phase is None:
                        continue
                    ph = stats["phases"].setdefault(phase, {"n": 0, "last": 0.0, "lat": []})
                    ph["n"] += 1
                    ph["last"] = now
                    local[0] += 1
                    if data.get("probe"):
                        # From the moment the message is announced (our messages carry the
                        # server's stamp "ts"; the baseline's, the publisher's "t").
                        ph["lat"].append(now - m.get("ts", data["t"]))
                        ph.setdefault("call", []).append(now - data["t"])
        except websockets.ConnectionClosed:
            stats["closed"] += 1

    async def one():
        async with sem:
            started = time.perf_counter()
            ws = await websockets.connect(
                url, max_size=None, compression=None, open_timeout=120, ping_interval=None
            )
            await ws.send(orjson.dumps({"op": "subscribe", "topics": [topic]}).decode())
            while True:
                frame = orjson.loads(await ws.recv())
                if frame.get("op") == "subscribed":
                    break
                if frame.get("op") == "ping":
                    await ws.send('{"op":"pong"}')
            connect_s.append(time.perf_counter() - started)
            with joined.get_lock():
                joined.value += 1
            # Read (and answer pings) at once: a client that stays silent while the others
            # connect is closed as dead by the gateway, as it should be.
            tasks.append(asyncio.create_task(reader(ws)))
            return ws

    results = await asyncio.gather(*[one() for _ in range(n)], return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    errors = [repr(r)[:120] for r in results if isinstance(r, BaseException)]
    ready_q.put(
        {
            "ok": len(conns) - stats["closed"],
            "errors": len(errors),
            "closed_while_connecting": stats["closed"],
            "sample_errors": errors[:3],
            "connect_s": connect_s,
        }
    )
    while not stop_ev.is_set():
        await asyncio.sleep(0.05)
        if local[0]:
            with counter.get_lock():
                counter.value += local[0]
            local[0] = 0
    result_q.put(stats)
    for ws in conns:
        ws.transport.abort()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Clients:
    """W client processes holding n connections in all on one topic."""

    def __init__(self, url: str, n: int, topic: str, workers: int):
        ctx = mp.get_context("fork")
        self.ready_q, self.result_q = ctx.Queue(), ctx.Queue()
        self.stop_ev = ctx.Event()
        self.counter = ctx.Value("q", 0)
        self.joined = ctx.Value("q", 0)
        share = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
        self.procs = [
            ctx.Process(
                target=client_process,
                args=(
                    url,
                    k,
                    topic,
                    self.ready_q,
                    self.result_q,
                    self.stop_ev,
                    self.counter,
                    self.joined,
                ),
                daemon=True,
            )
            for k in share
            if k
        ]
        started = time.perf_counter()
        for p in self.procs:
            p.start()
        self.ready = []
        next_note = time.monotonic() + 10
        while len(self.ready) < len(self.procs):
            try:
                self.ready.append(self.ready_q.get(timeout=1))
            except Exception:  # queue.Empty: show progress while connecting
                if time.monotonic() > next_note:
                    next_note = time.monotonic() + 10
                    log(f"   ... {self.joined.value}/{n} connected")
                if time.perf_counter() - started > 1800:
                    raise RuntimeError("clients did not connect within 30 min") from None
        self.connect_wall_s = time.perf_counter() - started
        self.ok = sum(r["ok"] for r in self.ready)
        self.errors = sum(r["errors"] for r in self.ready)
        self.connect_s = [x for r in self.ready for x in r["connect_s"]]
        for r in self.ready:
            if r["sample_errors"]:
                log("   client errors:", r["sample_errors"])

    def received(self) -> int:
        return self.counter.value

    def stop(self) -> dict:
        self.stop_ev.set()
        results = [self.result_q.get(timeout=120) for _ in self.procs]
        for p in self.procs:
            p.join(30)
        merged = {"pings": 0, "closed": 0, "phases": {}}
        for r in results:
            merged["pings"] += r["pings"]
            merged["closed"] += r["closed"]
            for name, ph in r["phases"].items():
                m = merged["phases"].setdefault(name, {"n": 0, "last": 0.0, "lat": []})
                m["n"] += ph["n"]
                m["last"] = max(m["last"], ph["last"])
                m["lat"].extend(ph["lat"])
                m.setdefault("call", []).extend(ph.get("call", []))
        return merged


# --- server --------------------------------------------------------------------------


def rss(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


def server_dispatch_ms(probes: int) -> list[float]:
    """Our hub's own latency figures for the last `probes` publishes (from its stats in
    Redis): announce stamp to the write to the last local subscriber, in ms."""
    from apps.realtime.store import get_store

    values: list[float] = []
    for proc in get_store().read_proc_stats():
        values.extend(proc.get("latency_ms", [])[-probes:])
    return [round(v, 2) for v in values]


def run_design(
    name: str,
    env: dict,
    ws_path: str,
    publish,
    burst_publish,
    idle_topic,
    hot_topic,
    args,
    server_side: bool = False,
) -> dict:
    import psutil

    log(f"== {name} ==")
    server = start_daphne(env, name="gateway", app="stock_channels_asgi:application")
    proc, url = server.proc, f"{server.ws_url}{ws_path}"
    out: dict = {}
    try:
        warm = Clients(url, 1, idle_topic, 1)
        time.sleep(1.0)
        rss0 = rss(proc.pid)
        warm.stop()
        # 1. connections held, heartbeating
        log(f"   connecting {args.connections} clients ...")
        held = Clients(url, args.connections, idle_topic, args.workers)
        log(f"   {held.ok} connected ({held.errors} errors) in {held.connect_wall_s:.1f} s")
        hold_s = args.hold
        cpu = psutil.Process(proc.pid)
        cpu.cpu_percent(None)
        time.sleep(hold_s)
        idle_cpu = cpu.cpu_percent(None)
        rss1 = rss(proc.pid)
        held_stats = held.stop()
        out["connections"] = held.ok
        out["connect_errors"] = held.errors
        out["rss_per_conn_kb"] = (rss1 - rss0) / max(1, held.ok) / 1024
        out["idle_cpu_percent"] = idle_cpu
        out["pings_received"] = held_stats["pings"]
        out["dropped_while_held"] = held_stats["closed"]
        out["connect_p50_ms"] = (pct(held.connect_s, 50) or 0) * 1000
        out["connect_p99_ms"] = (pct(held.connect_s, 99) or 0) * 1000
        log(
            f"   RSS/conn {out['rss_per_conn_kb']:.1f} KB, idle CPU {idle_cpu:.0f}%, "
            f"pings {held_stats['pings']}, dropped {held_stats['closed']}"
        )
        time.sleep(2)
        # 2 + 3. fan-out to S subscribers of one topic
        subs = Clients(url, args.subscribers, hot_topic, args.workers)
        log(f"   {subs.ok} subscribers on {hot_topic}")
        time.sleep(1.0)
        for k in range(args.probes):
            publish(hot_topic, {"t": time.time(), "ph": "lat", "probe": 1, "k": k})
            time.sleep(args.probe_gap)
        time.sleep(1.5)  # the hub writes its stats to Redis every second
        server_ms = server_dispatch_ms(args.probes) if server_side else []
        before = subs.received()
        expected = before + subs.ok * args.burst
        started = time.time()
        burst_publish(
            hot_topic, [{"t": time.time(), "ph": "burst", "k": k} for k in range(args.burst)]
        )
        publish_s = time.time() - started
        last_n, last_change = subs.received(), time.monotonic()
        while subs.received() < expected and time.monotonic() - last_change < 15:
            time.sleep(0.05)
            if subs.received() != last_n:
                last_n, last_change = subs.received(), time.monotonic()
        stats = subs.stop()
        lat = [x * 1000 for x in stats["phases"].get("lat", {}).get("lat", [])]
        call = [x * 1000 for x in stats["phases"].get("lat", {}).get("call", [])]
        if server_side:
            # The server's own share: announce to the write to the last subscriber's socket.
            out["server_dispatch_p50_ms"] = pct(server_ms, 50)
            out["server_dispatch_max_ms"] = max(server_ms) if server_ms else None
            log(
                f"   server side (announce -> last socket write), {len(server_ms)} probes: "
                f"p50 {out['server_dispatch_p50_ms']} ms, max {out['server_dispatch_max_ms']} ms"
            )
        out["call_latency_p50_ms"] = pct(call, 50)
        out["call_latency_p99_ms"] = pct(call, 99)
        burst = stats["phases"].get("burst", {"n": 0, "last": started})
        span = max(1e-6, burst["last"] - started)
        out["subscribers"] = subs.ok
        out["probe_deliveries"] = len(lat)
        out["probe_expected"] = subs.ok * args.probes
        out["latency_p50_ms"] = pct(lat, 50)
        out["latency_p99_ms"] = pct(lat, 99)
        out["burst_delivered"] = burst["n"]
        out["burst_expected"] = subs.ok * args.burst
        out["deliveries_per_s"] = burst["n"] / span
        out["burst_publish_s"] = publish_s
        log(
            f"   one publish to {subs.ok}: p50 {out['latency_p50_ms']:.1f} ms, "
            f"p99 {out['latency_p99_ms']:.1f} ms ({len(lat)}/{out['probe_expected']} delivered)"
        )
        log(
            f"   burst: {burst['n']}/{out['burst_expected']} delivered in {span:.2f} s = "
            f"{out['deliveries_per_s']:.0f} deliveries/s (publishing took {publish_s:.2f} s)"
        )
    finally:
        server.stop()
    return out


def run_node(env: dict, world: dict, publish, stock_publish, args) -> None:
    """Both designs through one front door (HAProxy + a Daphne per core), Node subscribers."""
    import _node_fanout as node
    from _servers import start_front

    node.ensure_node_client()
    log(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    app = "stock_channels_asgi:application"  # the product, plus the stock consumer
    with start_front(env, name="gateway-front", http_processes=1, ws_app=app) as door:
        hot = world["hot"]
        ours = node.measure(
            "ours",
            f"{door.ws_url}/ws/realtime/?token={world['token']}",
            hot,
            lambda data: publish(hot, data),
            args,
            log,
            lambda: [*door.pids(), door.proxy.pid],
        )
        stock = node.measure(
            "stock",
            f"{door.ws_url}/ws/bench/stock/",
            hot,
            lambda data: stock_publish(hot, data),
            args,
            log,
            lambda: [*door.pids(), door.proxy.pid],
        )
    figures = node.figures(ours, stock, args.subscribers)
    log("")
    for f in figures:
        log(
            f"{f['name']:60} {f['value']!s:>10} {f['baseline']!s:>10} {f['ratio']!s:>7}  "
            f"{f['goal']}"
        )
    log(f"details ours: {json.dumps(ours)}")
    log(f"details baseline: {json.dumps(stock)}")
    log(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "RESULT " + json.dumps({"bench": "gateway-node", "quick": args.quick, "figures": figures})
    )


def setup(env: dict, heartbeat_s: int) -> dict:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    ensure_database(env["DATABASE_URL"])
    call_command("migrate", verbosity=0)
    import datetime as dt

    from apps.weddings.models import Region, Supplier, Venue, Wedding

    region, _ = Region.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "timezone": "UTC"}
    )
    venue, _ = Venue.objects.get_or_create(
        name="Bench hall",
        defaults={
            "venue_type": "banquet_hall",
            "region": region,
            "timezone": "UTC",
            "connectivity": "good",
            "heartbeat_seconds": 5,
            "batch_window_ms": 0,
        },
    )
    # Pings at the venue's interval: short in --quick so a short hold sees them; the
    # banquet-hall default (30 s) in the full run, as a real hall would be.
    venue.heartbeat_seconds = heartbeat_s
    venue.batch_window_ms = 0
    venue.save()
    supplier, _ = Supplier.objects.get_or_create(name="Bench supplier")
    supplier.max_connections = 1_000_000
    supplier.max_messages_per_second = 1000
    supplier.save()
    token = supplier.issue_token()
    weddings = []
    for offset, label in ((300, "idle"), (301, "hot")):
        w, _ = Wedding.objects.get_or_create(
            couple_name=f"bench {label}",
            defaults={
                "date": dt.date.today() + dt.timedelta(days=offset),
                "ceremony_time": dt.time(14),
                "reception_end_time": dt.time(22),
                "venue": venue,
            },
        )
        w.suppliers.add(supplier)
        weddings.append(w.pk)
    return {"token": token, "idle": f"wedding:{weddings[0]}", "hot": f"wedding:{weddings[1]}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--connections", type=int)
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--client",
        choices=["python", "node"],
        default="python",
        help="node: the fan-out figures with a Node + ws client through the front door "
        "(bench/_node_fanout.py); python: connections, memory and fan-out per bare Daphne",
    )
    parser.add_argument("--node-seconds", type=float, help="seconds per Node phase")
    args = parser.parse_args()
    args.node_seconds = args.node_seconds or (5.0 if args.quick else 20.0)
    args.connections = args.connections or (500 if args.quick else 10_000)
    args.subscribers = args.subscribers or (200 if args.quick else 1000)
    args.probes = 5 if args.quick else 30
    args.probe_gap = 1.0  # isolated probes: the baseline must not queue behind itself
    args.burst = 50 if args.quick else 300
    args.heartbeat = 5 if args.quick else 30
    args.hold = args.heartbeat + 2.0

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsobench",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    world = setup(env, args.heartbeat)
    log(
        f"fd limit {hard}; {args.connections} connections, {args.subscribers} subscribers, "
        f"{args.workers} client processes (machine shared: figures are noisy)"
    )

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.realtime.publish import publish

    layer = get_channel_layer()

    async def _stock_burst(topic: str, items: list[dict]) -> None:
        for data in items:
            await layer.group_send(
                topic.replace(":", "."), {"type": "topic.message", "topic": topic, "data": data}
            )

    def stock_burst(topic: str, items: list[dict]) -> None:
        async_to_sync(_stock_burst)(topic, items)

    def our_burst(topic: str, items: list[dict]) -> None:
        # The relay's path: many publishes per Redis round trip (the topic's seq exists).
        import orjson

        from apps.realtime.store import get_store

        store = get_store()
        for i in range(0, len(items), 50):
            chunk = items[i : i + 50]
            store.publish_many([(topic, orjson.dumps(d).decode(), 200, -1) for d in chunk])

    def stock_publish(topic: str, data: dict) -> None:
        async_to_sync(layer.group_send)(
            topic.replace(":", "."), {"type": "topic.message", "topic": topic, "data": data}
        )

    if args.client == "node":
        run_node(env, world, publish, stock_publish, args)
        return
    ours = run_design(
        "ours: hub + one pub/sub per process",
        env,
        f"/ws/realtime/?token={world['token']}",
        publish,
        our_burst,
        world["idle"],
        world["hot"],
        args,
        server_side=True,
    )
    stock = run_design(
        "baseline: stock consumer + group_send",
        env,
        "/ws/bench/stock/",
        stock_publish,
        stock_burst,
        world["idle"],
        world["hot"],
        args,
    )

    def ratio(a, b, higher_better=True):
        if not a or not b:
            return None
        return round(a / b if higher_better else b / a, 2)

    figures = [
        {
            "name": "connections held per process",
            "value": ours["connections"],
            "unit": "connections",
            "baseline": stock["connections"],
            "ratio": ratio(ours["connections"], stock["connections"]),
            "goal": ">= 10000",
        },
        {
            "name": "RSS per connection",
            "value": round(ours["rss_per_conn_kb"], 1),
            "unit": "KB",
            "baseline": round(stock["rss_per_conn_kb"], 1),
            "ratio": ratio(ours["rss_per_conn_kb"], stock["rss_per_conn_kb"], False),
            "goal": "<= 30 KB",
        },
        {
            "name": "fan-out deliveries/s per process",
            "value": round(ours["deliveries_per_s"]),
            "unit": "deliveries/s",
            "baseline": round(stock["deliveries_per_s"]),
            "ratio": ratio(ours["deliveries_per_s"], stock["deliveries_per_s"]),
            "goal": ">= 10000/s and >= 3x",
        },
        {
            "name": f"one publish to {ours['subscribers']} subscribers p99",
            "value": round(ours["latency_p99_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(stock["latency_p99_ms"] or 0, 1),
            "ratio": ratio(ours["latency_p99_ms"], stock["latency_p99_ms"], False),
            "goal": "<= 50 ms and >= 3x",
        },
        {
            "name": "publish() call to receipt p99 (incl. our DB checks)",
            "value": round(ours["call_latency_p99_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(stock["call_latency_p99_ms"] or 0, 1),
            "ratio": ratio(ours["call_latency_p99_ms"], stock["call_latency_p99_ms"], False),
            "goal": "-",
        },
        {
            "name": f"one publish to {ours['subscribers']} subscribers p50",
            "value": round(ours["latency_p50_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(stock["latency_p50_ms"] or 0, 1),
            "ratio": ratio(ours["latency_p50_ms"], stock["latency_p50_ms"], False),
            "goal": "-",
        },
    ]
    log("")
    log(f"{'figure':45} {'ours':>12} {'baseline':>12} {'ratio':>7}  goal")
    for f in figures:
        log(
            f"{f['name']:45} {f['value']!s:>12} {f['baseline']!s:>12} {f['ratio']!s:>7}  "
            f"{f['goal']}"
        )
    log(f"details ours: {json.dumps(ours)}")
    log(f"details baseline: {json.dumps(stock)}")
    print("RESULT " + json.dumps({"bench": "gateway", "quick": args.quick, "figures": figures}))


if __name__ == "__main__":
    main()
