"""python manage.py simulate --clients N --suppliers S --rate R --duration D [--reads Q]

Real supplier apps (the Python client SDK, `wedsync_realtime`, on `websockets`) against
a running gateway, with a wedding-day shape: clients connect in a ramp, subscribe to
their supplier's weddings and supplier topic, answer pings; messages are published at R
per second, rising to a peak in the middle of the run (ceremony, speeches) and easing
off. With --reads, the suppliers' apps also read wedding details over REST (through the
server's two-tier cache), the most popular weddings most often. Live progress on one
line (a line a minute when the output is not a terminal); at the end connect-time,
delivery and read latency percentiles and errors.

Publishing goes straight onto the channel layer when it is shared (Redis), and through
the publish API with each supplier's own token when it is in-memory (the embedded
default: this process cannot reach the server's memory). `make run` runs this in the
background with --credentials, so the demo has live traffic without rotating the tokens
written for the user.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

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
        parser.add_argument(
            "--reads", type=float, default=0.0, help="wedding detail reads per second over REST"
        )
        parser.add_argument(
            "--publish-via",
            choices=["auto", "layer", "api"],
            default="auto",
            help="layer: the channel layer; api: POST /api/v1/realtime/publish/ with the "
            "supplier's token; auto: api when the channel layer is in-memory",
        )
        parser.add_argument(
            "--credentials",
            help="seed_demo's credentials file: use its supplier tokens instead of rotating them",
        )

    def handle(self, *args, **opts) -> None:
        for name in ("clients", "suppliers"):
            if opts[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if opts["rate"] <= 0 or opts["duration"] <= 0:
            raise CommandError("--rate and --duration must be positive.")
        if opts["reads"] < 0:
            raise CommandError("--reads must not be negative.")
        if not opts["url"].startswith(("ws://", "wss://")):
            raise CommandError(f"--url must start with ws:// or wss://, not {opts['url']!r}.")
        tokens = self._tokens_from(opts["credentials"]) if opts["credentials"] else None
        suppliers = self._suppliers(opts["suppliers"], tokens)
        opts["via_api"] = self._publish_via_api(opts["publish_via"])
        report = asyncio.run(self._run(suppliers, opts))
        self._print(report, opts)

    @staticmethod
    def _publish_via_api(choice: str) -> bool:
        from django.conf import settings

        if choice != "auto":
            return choice == "api"
        return settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")

    @staticmethod
    def _tokens_from(path: str) -> dict[int, str]:
        try:
            data = json.loads(Path(path).read_text())
            return {int(s["id"]): s["token"] for s in data["suppliers"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                f"--credentials {path}: not a seed_demo credentials file ({exc})."
            ) from exc

    def _suppliers(self, count: int, tokens: dict[int, str] | None) -> list[dict]:
        """Active suppliers that have weddings, with the token each client presents: the
        one in the credentials file, else a fresh one (rotating the supplier's token)."""
        from django.utils import timezone

        from apps.realtime.authz import supplier_wedding_ids
        from apps.weddings.models import Supplier, Wedding

        candidates = Supplier.objects.filter(is_active=True, weddings__isnull=False).distinct()
        if tokens is not None:
            candidates = candidates.filter(pk__in=tokens)
        chosen = []
        today = timezone.localdate()
        for supplier in candidates.order_by("pk")[:count]:
            # A supplier's app follows its next weddings, today's first (the reader reads
            # the first ones most); a supplier with none ahead follows its latest.
            allowed = supplier_wedding_ids(supplier.pk)
            ahead = Wedding.objects.filter(pk__in=allowed, date__gte=today)
            ordered = ahead.order_by("date", "ceremony_time", "pk").values_list("pk", flat=True)
            weddings = list(ordered[:20]) or sorted(allowed)[-20:]
            chosen.append(
                {
                    "id": supplier.pk,
                    "token": tokens[supplier.pk] if tokens else supplier.issue_token(),
                    "weddings": weddings,
                    "topics": [f"wedding:{w}" for w in weddings] + [f"supplier:{supplier.pk}"],
                    "limit": supplier.max_connections,
                }
            )
        if not chosen:
            raise CommandError("No active supplier with weddings: run `manage.py seed_demo`.")
        how = "tokens from the credentials file" if tokens else "tokens rotated for this run"
        self.stdout.write(f"Using {len(chosen)} suppliers; {how}.")
        return chosen

    async def _run(self, suppliers: list[dict], opts: dict) -> dict:
        import wedsync_realtime

        from apps.realtime.publish import publish

        stats = {
            "connect_ms": [],
            "latency_ms": [],
            "read_ms": [],
            "received": 0,
            "published": 0,
            "reads": 0,
            "errors": Counter(),
            "connected": 0,
            "closed": Counter(),
        }
        stop = asyncio.Event()
        url = opts["url"].rstrip("/")
        http_url = "http" + url[2:]  # ws://host -> http://host, wss:// -> https://

        def call_api(path: str, token: str, body: dict | None = None) -> int:
            """One REST call; the HTTP status (an error status is not an exception here)."""
            request = urllib.request.Request(
                http_url + path,
                data=orjson.dumps(body) if body is not None else None,
                method="POST" if body is not None else "GET",
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        def publish_one(supplier: dict, topic: str, data: dict) -> None:
            if not opts["via_api"]:
                publish(topic, data)
                return
            status = call_api(
                "/api/v1/realtime/publish/", supplier["token"], {"topic": topic, "data": data}
            )
            if status != 202:
                raise RuntimeError(f"HTTP {status}")

        async def client(index: int) -> None:
            """One supplier app, through the client SDK (clients/python): what real apps
            see, reconnects and replay included."""
            supplier = suppliers[index % len(suppliers)]
            await asyncio.sleep(opts["ramp"] * index / max(1, opts["clients"]))
            started = time.perf_counter()
            app = wedsync_realtime.connect(
                f"{url}/ws/realtime/", supplier["token"], open_timeout=30
            )
            try:
                await app.connect()
                subs = await app.subscribe_many(supplier["topics"])
            except Exception as exc:
                stats["errors"][type(exc).__name__] += 1
                await app.close()
                return
            stats["connect_ms"].append((time.perf_counter() - started) * 1000)
            stats["connected"] += 1

            async def follow(sub) -> None:
                async for msg in sub:
                    stats["received"] += 1
                    if msg.ts is not None:
                        stats["latency_ms"].append((time.time() - msg.ts) * 1000)

            readers = [asyncio.create_task(follow(sub)) for sub in subs]
            try:
                await stop.wait()
            finally:
                stats["connected"] -= 1
                await app.close()
                await asyncio.gather(*readers, return_exceptions=True)
                for code in app.closes:
                    if code not in (1000, None):
                        stats["closed"][code] += 1
                for sub in subs:
                    if sub.gaps:
                        stats["errors"]["gap"] += len(sub.gaps)

        async def publisher() -> None:
            topics = [(s, t) for s in suppliers for t in s["topics"] if t.startswith("wedding:")]
            if not topics:
                return
            started = time.monotonic()
            while not stop.is_set():
                progress = (time.monotonic() - started) / opts["duration"]
                rate = opts["rate"] * wedding_day_shape(min(1.0, progress))
                supplier, topic = random.choice(topics)
                kind = random.choice(["timeline", "guest_checkin", "vendor_arrival", "photo"])
                try:
                    await asyncio.to_thread(
                        publish_one, supplier, topic, {"kind": kind, "sim": True}
                    )
                    stats["published"] += 1
                except Exception as exc:
                    stats["errors"][f"publish:{type(exc).__name__}"] += 1
                await asyncio.sleep(1 / rate)

        async def reader() -> None:
            """Supplier apps opening weddings: a skewed choice (the first of a supplier's
            weddings twice as often as the second...), as on a wedding day."""
            pairs = [(s, w) for s in suppliers for w in s["weddings"]]
            if not pairs or opts["reads"] <= 0:
                return
            weights = [1 / (1 + s["weddings"].index(w)) for s, w in pairs]
            while not stop.is_set():
                supplier, wedding = random.choices(pairs, weights)[0]
                started = time.perf_counter()
                try:
                    status = await asyncio.to_thread(
                        call_api, f"/api/v1/weddings/{wedding}/", supplier["token"]
                    )
                except Exception as exc:
                    stats["errors"][f"read:{type(exc).__name__}"] += 1
                else:
                    if status == 200:
                        stats["reads"] += 1
                        stats["read_ms"].append((time.perf_counter() - started) * 1000)
                    else:
                        stats["errors"][f"read:HTTP {status}"] += 1
                await asyncio.sleep(1 / opts["reads"])

        async def progress() -> None:
            # A terminal gets one line rewritten every second; a log file a line a minute.
            tty = sys.stdout.isatty()
            started = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(1 if tty else 60)
                for key in ("latency_ms", "read_ms"):  # a long run must not grow without bound
                    del stats[key][:-10_000]
                p95 = _pct(stats["latency_ms"][-2000:], 95)
                sys.stdout.write(
                    f"{chr(13) if tty else ''}{time.monotonic() - started:5.0f}s  "
                    f"connected {stats['connected']:>6}  published {stats['published']:>7}  "
                    f"received {stats['received']:>9}  p95 {p95 or 0:7.1f} ms  "
                    f"reads {stats['reads']:>7}  errors {sum(stats['errors'].values()):>4}   "
                    f"{'' if tty else chr(10)}"
                )
                sys.stdout.flush()

        tasks = [asyncio.create_task(client(i)) for i in range(opts["clients"])]
        helpers = [
            asyncio.create_task(publisher()),
            asyncio.create_task(reader()),
            asyncio.create_task(progress()),
        ]
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
        if opts["reads"] > 0:
            self.stdout.write(line("wedding reads", stats["read_ms"]))
        via = "the publish API" if opts["via_api"] else "the channel layer"
        self.stdout.write(
            f"published {stats['published']}, received {stats['received']} deliveries, "
            f"{stats['reads']} wedding reads (published through {via})"
        )
        errors = dict(stats["errors"])
        closed = {str(k): v for k, v in stats["closed"].items()}
        self.stdout.write(f"errors: {errors or 'none'}; closed by server: {closed or 'none'}")
