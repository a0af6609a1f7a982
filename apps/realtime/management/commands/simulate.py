"""python manage.py simulate --clients N --suppliers S --rate R --duration D

Real asyncio WebSocket clients (the `websockets` package) against a running gateway, with
a wedding-day shape: clients connect in a ramp, subscribe to their supplier's weddings and
supplier topic, answer pings; messages are published at R per second, rising to a peak in
the middle of the run (ceremony, speeches) and easing off. Live progress on one line;
at the end connect-time and delivery-latency percentiles and errors.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time
from collections import Counter

import orjson
from django.core.management.base import BaseCommand, CommandError


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wedding_day_shape(progress: float) -> float:
    """Publish-rate multiplier over the run: quiet morning, ceremony peak, reception hum."""
    return 0.4 + 1.2 * math.exp(-(((progress - 0.5) / 0.18) ** 2))


class Command(BaseCommand):
    help = "Load the realtime gateway with real WebSocket clients (wedding-day traffic shape)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clients", type=int, default=100)
        parser.add_argument("--suppliers", type=int, default=5)
        parser.add_argument("--rate", type=float, default=20.0, help="publishes per second")
        parser.add_argument("--duration", type=float, default=30.0, help="seconds")
        parser.add_argument("--url", default="ws://127.0.0.1:8000", help="gateway base URL")
        parser.add_argument("--ramp", type=float, default=5.0, help="seconds to connect all")

    def handle(self, *args, **opts) -> None:
        for name in ("clients", "suppliers"):
            if opts[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if opts["rate"] <= 0 or opts["duration"] <= 0:
            raise CommandError("--rate and --duration must be positive.")
        suppliers = self._suppliers(opts["suppliers"])
        report = asyncio.run(self._run(suppliers, opts))
        self._print(report, opts)

    def _suppliers(self, count: int) -> list[dict]:
        """Demo suppliers that have weddings; each gets a fresh token for this run."""
        from apps.realtime.authz import supplier_wedding_ids
        from apps.weddings.models import Supplier

        chosen = []
        for supplier in Supplier.objects.filter(is_active=True, weddings__isnull=False).distinct()[
            :count
        ]:
            weddings = sorted(supplier_wedding_ids(supplier.pk))[:20]
            chosen.append(
                {
                    "id": supplier.pk,
                    "token": supplier.issue_token(),
                    "topics": [f"wedding:{w}" for w in weddings] + [f"supplier:{supplier.pk}"],
                    "limit": supplier.max_connections,
                }
            )
        if not chosen:
            raise CommandError("No active supplier with weddings: run `manage.py seed_demo`.")
        self.stdout.write(
            f"Using {len(chosen)} suppliers; tokens rotated for this run (re-run seed_demo "
            "to write fresh credentials)."
        )
        return chosen

    async def _run(self, suppliers: list[dict], opts: dict) -> dict:
        import websockets

        from apps.realtime.publish import publish

        stats = {
            "connect_ms": [],
            "latency_ms": [],
            "received": 0,
            "published": 0,
            "errors": Counter(),
            "connected": 0,
            "closed": Counter(),
        }
        stop = asyncio.Event()
        url = opts["url"].rstrip("/")

        async def client(index: int) -> None:
            supplier = suppliers[index % len(suppliers)]
            await asyncio.sleep(opts["ramp"] * index / max(1, opts["clients"]))
            started = time.perf_counter()
            try:
                ws = await websockets.connect(
                    f"{url}/ws/realtime/?token={supplier['token']}", open_timeout=30
                )
            except Exception as exc:
                stats["errors"][type(exc).__name__] += 1
                return
            try:
                await ws.send(orjson.dumps({"op": "subscribe", "topics": supplier["topics"]}))
                stats["connected"] += 1
                first = True
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    now = time.time()
                    frame = orjson.loads(raw)
                    op = frame.get("op")
                    if op == "subscribed" and first:
                        stats["connect_ms"].append((time.perf_counter() - started) * 1000)
                        first = False
                    elif op == "ping":
                        await ws.send('{"op":"pong"}')
                    elif op in ("message", "batch"):
                        items = frame["messages"] if op == "batch" else [frame]
                        for m in items:
                            stats["received"] += 1
                            stats["latency_ms"].append((now - m["ts"]) * 1000)
                    elif op == "error":
                        stats["errors"][frame.get("code", "error")] += 1
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                stats["closed"][code] += 1
            finally:
                stats["connected"] -= 1
                await ws.close()

        async def publisher() -> None:
            topics = [t for s in suppliers for t in s["topics"] if t.startswith("wedding:")]
            if not topics:
                return
            started = time.monotonic()
            while not stop.is_set():
                progress = (time.monotonic() - started) / opts["duration"]
                rate = opts["rate"] * wedding_day_shape(min(1.0, progress))
                topic = random.choice(topics)
                kind = random.choice(["timeline", "guest_checkin", "vendor_arrival", "photo"])
                try:
                    await asyncio.to_thread(publish, topic, {"kind": kind, "sim": True})
                    stats["published"] += 1
                except Exception as exc:
                    stats["errors"][f"publish:{type(exc).__name__}"] += 1
                await asyncio.sleep(1 / rate)

        async def progress() -> None:
            started = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(1)
                lat = stats["latency_ms"][-2000:]
                p95 = _pct(lat, 95)
                sys.stdout.write(
                    f"\r{time.monotonic() - started:5.0f}s  connected {stats['connected']:>6}  "
                    f"published {stats['published']:>7}  received {stats['received']:>9}  "
                    f"p95 {p95 or 0:7.1f} ms  errors {sum(stats['errors'].values()):>4}   "
                )
                sys.stdout.flush()

        tasks = [asyncio.create_task(client(i)) for i in range(opts["clients"])]
        helpers = [asyncio.create_task(publisher()), asyncio.create_task(progress())]
        await asyncio.sleep(opts["duration"])
        stop.set()
        await asyncio.gather(*tasks, *helpers, return_exceptions=True)
        sys.stdout.write("\n")
        return stats

    def _print(self, stats: dict, opts: dict) -> None:
        def line(label: str, values: list[float]) -> str:
            parts = [f"p{q} {(_pct(values, q) or 0):.1f} ms" for q in (50, 95, 99)]
            return f"{label:18} " + ", ".join(parts) + f"  (n={len(values)})"

        self.stdout.write(line("connect time", stats["connect_ms"]))
        self.stdout.write(line("delivery latency", stats["latency_ms"]))
        self.stdout.write(
            f"published {stats['published']}, received {stats['received']} deliveries"
        )
        errors = dict(stats["errors"])
        closed = {str(k): v for k, v in stats["closed"].items()}
        self.stdout.write(f"errors: {errors or 'none'}; closed by server: {closed or 'none'}")
