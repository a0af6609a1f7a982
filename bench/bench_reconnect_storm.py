"""Reconnect storm: N SDK clients through one Daphne, the process restarted (SIGTERM, a
deploy), against the same N naive fixed-delay clients in the same run.

Figures: seconds until every client is back (goal: within 30 s), the peak of connection
attempts per second after the restart (SDK beside naive: the spread), and messages lost
(published before, during and after the restart; goal: zero). The clients are Node
(bench/storm_clients.mjs, cheaper than Python at this count); the SDK ones are
clients/js, the naive ones reconnect after a fixed delay and resume with `since`.

    .venv/bin/python bench/bench_reconnect_storm.py [--quick] [--clients N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from _servers import bench_env, ensure_database, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wedsync_storm_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"


def log(*args) -> None:
    print(*args, flush=True)


def setup(env: dict) -> dict:
    os.environ.update(env)
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from apps.weddings.models import Region, Supplier, Venue, Wedding

    ensure_database(env["DATABASE_URL"])
    call_command("migrate", verbosity=0)
    region, _ = Region.objects.get_or_create(
        code="storm", defaults={"name": "Storm", "timezone": "UTC"}
    )
    venue, _ = Venue.objects.get_or_create(
        name="Storm hall",
        defaults={"venue_type": "banquet_hall", "region": region, "timezone": "UTC"},
    )
    supplier, _ = Supplier.objects.get_or_create(name="Storm supplier")
    supplier.max_connections = 1_000_000
    supplier.save()
    wedding, _ = Wedding.objects.get_or_create(
        couple_name="storm",
        defaults={
            "date": dt.date.today() + dt.timedelta(days=200),
            "ceremony_time": dt.time(14),
            "reception_end_time": dt.time(22),
            "venue": venue,
        },
    )
    wedding.suppliers.add(supplier)
    user, _ = User.objects.get_or_create(username="storm-publisher")
    user.groups.add(Group.objects.get_or_create(name="operators")[0])
    staff, _ = Token.objects.get_or_create(user=user)
    return {"token": supplier.issue_token(), "topic": f"wedding:{wedding.pk}", "staff": staff.key}


def publish(base: str, staff: str, topic: str, n: int) -> int:
    body = json.dumps({"topic": topic, "data": {"n": n}}).encode()
    while True:
        request = urllib.request.Request(
            f"{base}/api/v1/realtime/publish/",
            data=body,
            headers={"Authorization": f"Token {staff}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["seq"]
        except OSError:  # the process is restarting: the publisher retries, as apps do
            time.sleep(0.1)


def peak_per_s(times_ms: list[float], since_ms: float) -> float:
    """The most attempts in any 1-second window after `since_ms` (100 ms steps)."""
    after = sorted(t for t in times_ms if t >= since_ms)
    best, lo = 0, 0
    for hi, t in enumerate(after):
        while after[lo] < t - 1000:
            lo += 1
        best = max(best, hi - lo + 1)
    return float(best)


def storm(kind: str, n: int, env: dict, world: dict, port: int, naive_delay_ms: int) -> dict:
    server = start_daphne(env, name=f"storm-{kind}", port=port)
    args = ["node", str(ROOT / "bench" / "storm_clients.mjs")]
    args += [f"{server.ws_url}/ws/realtime/", world["token"], world["topic"], kind, str(n)]
    args += [str(naive_delay_ms)]
    clients = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = clients.stdout.readline().strip()
    if not line.startswith("connected"):
        raise RuntimeError(f"{kind} clients did not connect: {line!r}")
    log(f"  {kind}: {n} clients connected; publishing, then SIGTERM to Daphne")
    seqs: list[int] = []
    stop = threading.Event()

    def publisher() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            seqs.append(publish(server_url[0], world["staff"], world["topic"], i))
            time.sleep(0.05)

    server_url = [server.url]
    thread = threading.Thread(target=publisher, daemon=True)
    thread.start()
    time.sleep(2)
    restart_ms = time.time() * 1000
    server.stop()  # SIGTERM: 1012 closes spread over GATEWAY_RESTART_SPREAD, then exit
    down_s = time.time() - restart_ms / 1000
    server = start_daphne(env, name=f"storm-{kind}-after", port=port, timeout=240)
    log(
        f"  {kind}: old process gone after {down_s:.1f}s, new one up after "
        f"{time.time() - restart_ms / 1000:.1f}s"
    )
    time.sleep(3)
    stop.set()
    thread.join(30)
    clients.stdin.write(f"done {seqs[0]} {seqs[-1]}\n")
    clients.stdin.flush()
    result = json.loads(clients.stdout.readline())
    clients.wait(30)
    server.stop()
    back = [t for t in result["reconnected_at"] if t is not None]
    return {
        "kind": kind,
        "published": len(seqs),
        "lost": result["lost"],
        "duplicated": result["duplicated"],
        "lost_clients": result["lost_clients"],
        "gaps": result["gaps"],
        "all_back": len(back) == n,
        "back_s": (max(back) - restart_ms) / 1000 if back else None,
        "peak_attempts_per_s": peak_per_s(result["attempts"], restart_ms),
        "attempts_after_restart": sum(1 for t in result["attempts"] if t >= restart_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--naive-delay-ms", type=int, default=1000)
    args = parser.parse_args()
    n = args.clients or (200 if args.quick else 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = bench_env(
        database=DEFAULT_DB,
        redis=DEFAULT_REDIS,
        prefix="wsostorm",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
        THROTTLE_USER="1000000/min",
    )
    world = setup(env)
    subprocess.run([str(ROOT / "scripts" / "ensure_node.sh")], check=True, capture_output=True)
    from _servers import free_port

    port = free_port()
    log(f"{n} clients per run, one Daphne on :{port} restarted (machine shared: noisy)")
    sdk = storm("sdk", n, env, world, port, args.naive_delay_ms)
    naive = storm("naive", n, env, world, port, args.naive_delay_ms)
    for r in (sdk, naive):
        log(
            f"{r['kind']:>5}: all back {r['all_back']} in {r['back_s']:.1f}s; peak "
            f"{r['peak_attempts_per_s']:.0f} attempts/s ({r['attempts_after_restart']} after the "
            f"restart); lost {r['lost']} (at {r['lost_clients']} clients; gaps told: "
            f"{r['gaps'] or 'none'}), duplicated {r['duplicated']} of {r['published']}"
        )
    ratio = naive["peak_attempts_per_s"] / max(1.0, sdk["peak_attempts_per_s"])
    log(
        f"peak attempts/s: naive {naive['peak_attempts_per_s']:.0f} vs SDK "
        f"{sdk['peak_attempts_per_s']:.0f} = {ratio:.1f}x flatter"
    )
    figures = [
        {
            "name": f"all {n} SDK clients back after a Daphne restart",
            "value": round(sdk["back_s"], 1) if sdk["all_back"] else None,
            "unit": "s",
            "baseline": round(naive["back_s"], 1) if naive["all_back"] else None,
            "ratio": None,
            "goal": "<= 30 s",
        },
        {
            "name": "peak reconnect attempts/s (SDK; baseline: naive fixed delay)",
            "value": sdk["peak_attempts_per_s"],
            "unit": "attempts/s",
            "baseline": naive["peak_attempts_per_s"],
            "ratio": round(ratio, 2),
            "goal": "ratio >= 2",
        },
        {
            "name": "messages lost across the restart (SDK clients)",
            "value": sdk["lost"] + sdk["duplicated"],
            "unit": "messages",
            "baseline": naive["lost"] + naive["duplicated"],
            "ratio": None,
            "goal": "<= 0",
        },
    ]
    print("RESULT " + json.dumps({"bench": "reconnect_storm", "figures": figures}), flush=True)


if __name__ == "__main__":
    main()
