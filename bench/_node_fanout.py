"""bench_gateway.py --client node: fan-out measured with a Node + `ws` client, through the
full stack's front door (HAProxy, a Daphne per core), ours beside stock Channels.

The Python probe costs more CPU per message than the server and hides its latency; one
Node process holding every subscriber is cheaper than what it measures. Two phases per
design, the same subscribers (S sockets on one topic, spread over the Daphne processes):

  latency:   5 publishes/s, each to all S; p50/p99 from the publisher's clock (same host);
  sustained: 20 publishes/s (S × 20 deliveries/s); deliveries/s received and p99.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"


def ensure_node_client() -> None:
    if not (NODE_DIR / "node_modules" / "ws").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class NodeSubscribers:
    def __init__(self, url: str, n: int, topic: str):
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "fanout.mjs"), url, str(n), topic],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = json.loads(self.proc.stdout.readline())

    def report(self) -> dict:
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self) -> None:
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def paced(publish: Callable[[dict], None], rate: float, seconds: float, phase: str) -> int:
    """Publish `rate` messages a second for `seconds`, on a schedule (not back to back)."""
    n = int(rate * seconds)
    start = time.monotonic()
    for k in range(n):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        publish({"ph": phase, "k": k, "t": time.time() * 1000})
    return n


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their children."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def measure(
    name: str,
    url: str,
    topic: str,
    publish: Callable[[dict], None],
    args,
    log,
    server_pids: Callable[[], list[int]] = list,
) -> dict:
    subs = NodeSubscribers(url, args.subscribers, topic)
    log(f"   node: {subs.ready['ready']} subscribers ({subs.ready['errors']} errors) on {url}")
    out = {"subscribers": subs.ready["ready"], "connect_errors": subs.ready["errors"]}
    try:
        time.sleep(1)
        subs.report()  # reset
        for phase, rate, seconds in (
            ("latency", 5.0, args.node_seconds),
            ("sustained", 20.0, args.node_seconds),
        ):
            cpu0 = cpu_seconds(server_pids())
            sent = paced(publish, rate, seconds, phase)
            time.sleep(3)  # stragglers
            got = subs.report()
            cpu = cpu_seconds(server_pids()) - cpu0
            ph = got["phases"].get(phase, {"n": 0, "lat": [], "first": 0, "last": 0})
            expected = sent * out["subscribers"]
            span_s = max(1e-3, (ph["last"] - ph["first"]) / 1000)
            out[phase] = {
                "published": sent,
                "delivered": ph["n"],
                "expected": expected,
                "p50_ms": pct(ph["lat"], 50),
                "p99_ms": pct(ph["lat"], 99),
                "deliveries_per_s": ph["n"] / span_s,
                "closed": got.get("closed", 0),
                # Server side (Daphne processes and HAProxy) CPU per delivery: on a shared
                # machine the latency follows other people's load, this much less.
                "server_cpu_us_per_delivery": round(1e6 * cpu / ph["n"], 1) if ph["n"] else None,
            }
            r = out[phase]
            log(
                f"   {name} {phase}: {rate:.0f}/s to {out['subscribers']}: "
                f"p50 {r['p50_ms'] or 0:.1f} ms, p99 {r['p99_ms'] or 0:.1f} ms, "
                f"{r['delivered']}/{expected} delivered, {r['deliveries_per_s']:.0f}/s, "
                f"server CPU {r['server_cpu_us_per_delivery']} µs/delivery "
                f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
            )
    finally:
        subs.stop()
    return out


def figures(ours: dict, stock: dict, subscribers: int) -> list[dict]:
    def ratio(a, b, higher_better=True):
        if not a or not b:
            return None
        return round(a / b if higher_better else b / a, 2)

    lat_o, lat_s = ours["latency"], stock["latency"]
    sus_o, sus_s = ours["sustained"], stock["sustained"]
    return [
        {
            "name": f"node client: one publish to {subscribers} subscribers p99 (5/s)",
            "value": round(lat_o["p99_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(lat_s["p99_ms"] or 0, 1),
            "ratio": ratio(lat_o["p99_ms"], lat_s["p99_ms"], False),
            "goal": "<= 50 ms",
        },
        {
            "name": f"node client: one publish to {subscribers} subscribers p50 (5/s)",
            "value": round(lat_o["p50_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(lat_s["p50_ms"] or 0, 1),
            "ratio": ratio(lat_o["p50_ms"], lat_s["p50_ms"], False),
            "goal": "-",
        },
        {
            "name": f"node client: sustained deliveries/s ({subscribers} × 20/s)",
            "value": round(sus_o["deliveries_per_s"]),
            "unit": "deliveries/s",
            "baseline": round(sus_s["deliveries_per_s"]),
            "ratio": ratio(sus_o["deliveries_per_s"], sus_s["deliveries_per_s"]),
            "goal": ">= 20000 deliveries/s",
        },
        {
            "name": f"node client: sustained p99 ({subscribers} × 20/s)",
            "value": round(sus_o["p99_ms"] or 0, 1),
            "unit": "ms",
            "baseline": round(sus_s["p99_ms"] or 0, 1),
            "ratio": ratio(sus_o["p99_ms"], sus_s["p99_ms"], False),
            "goal": "<= 100 ms",
        },
        {
            "name": "node client: server CPU per delivery, sustained (Daphne + HAProxy)",
            "value": sus_o["server_cpu_us_per_delivery"],
            "unit": "µs",
            "baseline": sus_s["server_cpu_us_per_delivery"],
            "ratio": ratio(
                sus_o["server_cpu_us_per_delivery"], sus_s["server_cpu_us_per_delivery"], False
            ),
            "goal": "-",
        },
        {
            "name": "node client: deliveries missing 3 s after each phase",
            "value": sum(
                ours[p]["expected"] - ours[p]["delivered"] for p in ("latency", "sustained")
            ),
            "unit": "deliveries",
            "baseline": sum(
                stock[p]["expected"] - stock[p]["delivered"] for p in ("latency", "sustained")
            ),
            "ratio": None,
            "goal": "<= 0",
        },
    ]
