#!/usr/bin/env python
"""Alerts: threshold crossing to firing + push, to webhook; rule evaluation cost.

Figures (full stack: PostgreSQL, Redis, one Daphne, one Celery worker, all on this machine):

1. From the ingest request that crosses a threshold (`for_seconds` 0) to the alert being firing
   in the database and pushed on /ws/ops/: p99 over 100 trials (goal <= 250 ms).
   Baseline, same run: the same ingest request when it crosses nothing (its HTTP round trip):
   the ratio says what evaluation, the transition and the push add on top of ingest.
2. To the webhook received by a local HTTP server (escalation step + delivery by the Celery
   worker): p99 over the same trials (goal <= 1 s). Same baseline.
3. Evaluating 10,000 threshold rules, each over its 60-sample window (windows read from Redis,
   pipelined per metric). Baseline, same run: the naive way, re-reading each rule's window
   from PostgreSQL (monitoring's samples table) with one query per rule.
   Ratio = baseline / figure (how many times faster).

    .venv/bin/python bench/bench_alerts.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _servers import ensure_database, start_celery_worker, start_daphne

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wedsync_bench_alerts")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
os.environ.setdefault("REDIS_PREFIX", "wsoalertsbench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x7Qp2" * 12)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("HTTPS", "false")

METRIC = "bench_alerts_latency_ms"
EVAL_PREFIX = "bench_eval_m"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def setup_django() -> None:
    import django

    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class Hook:
    """Local webhook receiver: records when each trial's notice arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.perf_counter()
                self.send_response(200)
                self.end_headers()
                try:
                    payload = json.loads(body)
                    if payload.get("event") == "firing":
                        hook.arrived.setdefault(payload["alert"]["labels"]["trial"], at)
                except (ValueError, KeyError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def prepare_latency(hook_url: str):
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from apps.alerts.models import (
        Alert,
        AlertRule,
        EscalationLevel,
        EscalationPolicy,
        NotificationChannel,
    )

    user, _ = User.objects.get_or_create(username="bench-alerts", defaults={"is_staff": True})
    user.groups.add(Group.objects.get_or_create(name="admins")[0])
    token = Token.objects.get_or_create(user=user)[0].key
    Alert.objects.filter(rule__metric=METRIC).delete()
    channel, _ = NotificationChannel.objects.update_or_create(
        name="bench hook", defaults={"kind": "webhook", "target": hook_url, "secret": "bench"}
    )
    policy, _ = EscalationPolicy.objects.get_or_create(name="bench now")
    policy.levels.all().delete()
    EscalationLevel.objects.create(policy=policy, delay_seconds=0).channels.set([channel])
    AlertRule.objects.update_or_create(
        name="bench latency crossing",
        defaults=dict(
            metric=METRIC,
            aggregation="last",
            window_seconds=60,
            comparator="gt",
            threshold=100,
            for_seconds=0,
            escalation_policy=policy,
            enabled=True,
        ),
    )
    client = Client()
    client.force_login(user)
    return token, client.cookies["sessionid"].value


def post(conn: http.client.HTTPConnection, token: str, trial: str, value: float) -> int:
    body = json.dumps({"samples": [{"name": METRIC, "labels": {"trial": trial}, "value": value}]})
    conn.request(
        "POST",
        "/api/v1/metrics/",
        body=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    return response.status


async def latency_trials(port: int, token: str, session: str, trials: int, hook: Hook) -> dict:
    import websockets

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    run = f"{time.time():.0f}"
    pushed: list[float] = []
    baseline: list[float] = []
    hooked: list[float] = []
    started: dict[str, float] = {}
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/ops/",
        additional_headers={"Cookie": f"sessionid={session}"},
        origin=f"http://127.0.0.1:{port}",
        max_queue=None,
    ) as ws:
        await ws.recv()  # hello
        for i in range(trials + 5):  # the first 5 warm up
            trial = f"{run}-{i}"
            # baseline: the same request crossing nothing
            t0 = time.perf_counter()
            assert await asyncio.to_thread(post, conn, token, trial + "-quiet", 1.0) == 202
            quiet = time.perf_counter() - t0
            t0 = time.perf_counter()
            started[trial] = t0
            assert await asyncio.to_thread(post, conn, token, trial, 500.0) == 202
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                alert = frame.get("alert") or {}
                if frame.get("op") == "alert" and alert.get("labels", {}).get("trial") == trial:
                    assert alert["state"] == "firing"
                    break
            if i >= 5:
                pushed.append(time.perf_counter() - t0)
                baseline.append(quiet)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(hook.arrived) < trials + 5:
            await asyncio.sleep(0.05)
    for i in range(5, trials + 5):
        trial = f"{run}-{i}"
        if trial in hook.arrived:
            hooked.append(hook.arrived[trial] - started[trial])
    return {"pushed": pushed, "baseline": baseline, "hooked": hooked, "run": run}


def eval_cost(n_rules: int, window: int = 60) -> dict:
    """10,000 rules over 60-sample windows: Redis windows vs. naive per-rule PostgreSQL reads."""
    from django.db import connection

    from apps.alerts import engine
    from apps.alerts.evaluation import evaluate_threshold
    from apps.alerts.models import AlertRule
    from apps.alerts.windows import store
    from apps.monitoring.models import Series, series_key

    metrics = 100
    per_metric = n_rules // metrics
    now = time.time()
    AlertRule.objects.filter(name__startswith="bench-eval-").delete()
    Series.objects.filter(name__startswith=EVAL_PREFIX).delete()
    rules, series, samples = [], [], []
    for m in range(metrics):
        name = f"{EVAL_PREFIX}{m}"
        for k in range(per_metric):
            labels = {"shard": str(k)}
            rules.append(
                AlertRule(
                    name=f"bench-eval-{m}-{k}",
                    metric=name,
                    matchers=labels,
                    aggregation=("avg", "max", "last", "p95")[k % 4],
                    window_seconds=window,
                    comparator="gt",
                    threshold=1e9,
                )
            )
            series.append(Series(name=name, labels=labels, key=series_key(name, labels)))
            for j in range(window):
                samples.append((name, labels, now - window + j + 0.5, float((k * 7 + j) % 100)))
    AlertRule.objects.bulk_create(rules, batch_size=2000)
    Series.objects.bulk_create(series, batch_size=2000)
    ids = {
        (s.name, s.labels["shard"]): s.pk
        for s in Series.objects.filter(name__startswith=EVAL_PREFIX)
    }
    t0 = time.perf_counter()
    for i in range(0, len(samples), 20000):
        store().append(samples[i : i + 20000])
    fill_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        with cursor.copy("COPY monitoring_sample (series_id, ts, value) FROM STDIN") as copy:
            for name, labels, ts, value in samples:
                copy.write_row((ids[(name, labels["shard"])], ts, value))
    rules = list(AlertRule.objects.filter(name__startswith="bench-eval-"))
    by_metric: dict[str, dict[str, dict]] = {}
    from apps.alerts.models import fingerprint

    for rule in rules:
        by_metric.setdefault(rule.metric, {})[fingerprint(rule.matchers)] = rule.matchers

    def ours() -> float:
        t = time.perf_counter()
        outcomes = engine.evaluate_threshold_rules(rules, by_metric, now, engine._LazyLive(now))
        assert len(outcomes) == len(rules) and not any(o.condition for o in outcomes)
        return time.perf_counter() - t

    def naive() -> float:
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for rule in rules:
                cursor.execute(
                    "SELECT ts, value FROM monitoring_sample WHERE series_id = %s AND ts >= %s "
                    "ORDER BY ts",
                    [ids[(rule.metric, rule.matchers["shard"])], now - rule.window_seconds],
                )
                points = cursor.fetchall()
                evaluate_threshold(
                    points,
                    aggregation=rule.aggregation,
                    comparator=rule.comparator,
                    threshold=rule.threshold,
                )
        return time.perf_counter() - t

    def batched() -> float:
        """A fairer PostgreSQL baseline: every window in one query, then the same evaluation."""
        t = time.perf_counter()
        rows: dict[int, list] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT series_id, ts, value FROM monitoring_sample WHERE series_id = ANY(%s) "
                "AND ts >= %s ORDER BY series_id, ts",
                [list(ids.values()), now - window],
            )
            for series_id, ts, value in cursor.fetchall():
                rows.setdefault(series_id, []).append((ts, value))
        for rule in rules:
            points = rows.get(ids[(rule.metric, rule.matchers["shard"])], [])
            evaluate_threshold(
                points,
                aggregation=rule.aggregation,
                comparator=rule.comparator,
                threshold=rule.threshold,
            )
        return time.perf_counter() - t

    # evaluation alone (windows already in memory): what the CPU costs
    windows = {m: store().read(m, fps, now - window) for m, fps in by_metric.items()}
    t = time.perf_counter()
    for rule in rules:
        points = windows[rule.metric][fingerprint(rule.matchers)]
        evaluate_threshold(
            points,
            aggregation=rule.aggregation,
            comparator=rule.comparator,
            threshold=rule.threshold,
        )
    cpu_only = time.perf_counter() - t

    ours(), naive()  # warm caches on both sides
    ours_runs = [ours() for _ in range(5)]
    naive_runs = [naive() for _ in range(3)]
    batched_runs = [batched() for _ in range(3)]
    AlertRule.objects.filter(name__startswith="bench-eval-").delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM monitoring_sample WHERE series_id = ANY(%s)", [list(ids.values())]
        )
    Series.objects.filter(name__startswith=EVAL_PREFIX).delete()
    return {
        "ours_s": statistics.median(ours_runs),
        "naive_s": statistics.median(naive_runs),
        "batched_s": statistics.median(batched_runs),
        "cpu_only_s": cpu_only,
        "fill_s": fill_s,
        "rules": len(rules),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    trials = 20 if args.quick else 100
    n_rules = 2000 if args.quick else 10000
    setup_django()
    from apps.alerts.windows import store

    store().clear()
    hook = Hook()
    token, session = prepare_latency(hook.url)
    env = {**os.environ, "THROTTLE_USER": "100000000/min", "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # The worker starts while Daphne boots; the ping below waits for it.
    worker = start_celery_worker(env, name="bench-alerts")
    server = None
    try:
        server = start_daphne(env, name="alerts")
        port = server.port
        from wedsync_ops.celery import ping

        ping.delay("up").get(timeout=60)
        lat = asyncio.run(latency_trials(port, token, session, trials, hook))
    finally:
        for process in (server, worker):
            if process is not None:
                process.stop()
    from apps.alerts.models import Alert

    firing = Alert.objects.filter(
        rule__metric=METRIC, state="firing", labels__trial__startswith=lat["run"]
    ).count()
    push_p50, push_p99 = pct(lat["pushed"], 0.5) * 1000, pct(lat["pushed"], 0.99) * 1000
    base_p50, base_p99 = pct(lat["baseline"], 0.5) * 1000, pct(lat["baseline"], 0.99) * 1000
    print(f"trials: {len(lat['pushed'])}; alerts firing in the database: {firing}")
    print(
        f"ingest crossing -> firing + pushed on /ws/ops/: p50 {push_p50:.1f} ms, "
        f"p99 {push_p99:.1f} ms"
    )
    print(
        f"baseline, ingest crossing nothing (HTTP round trip): p50 {base_p50:.1f} ms, "
        f"p99 {base_p99:.1f} ms"
    )
    hooked = lat["hooked"]
    if hooked:
        hook_p50, hook_p99 = pct(hooked, 0.5) * 1000, pct(hooked, 0.99) * 1000
        print(
            f"ingest crossing -> webhook received: p50 {hook_p50:.1f} ms, p99 {hook_p99:.1f} ms"
            f" ({len(hooked)}/{len(lat['pushed'])} arrived)"
        )
    else:
        hook_p99 = None
        print("webhook: nothing arrived")
    ev = eval_cost(n_rules)
    store().clear()
    print(
        f"evaluation of {ev['rules']} rules over 60-sample windows: windows from Redis "
        f"{ev['ours_s'] * 1000:.1f} ms (CPU of evaluation alone {ev['cpu_only_s'] * 1000:.1f}"
        f" ms); naive per-rule PostgreSQL reads {ev['naive_s'] * 1000:.1f} ms; "
        f"{ev['naive_s'] / ev['ours_s']:.1f}x faster"
    )
    print(
        f"(also: all windows from PostgreSQL in one query, then evaluation: "
        f"{ev['batched_s'] * 1000:.1f} ms, {ev['batched_s'] / ev['ours_s']:.1f}x ours)"
    )
    print(
        f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, shared by client"
        " and servers: figures are noisy"
    )
    figures = [
        {
            "name": "ingest_to_firing_pushed_p99",
            "value": round(push_p99, 1),
            "unit": "ms",
            "baseline": round(base_p99, 1),
            "ratio": round(push_p99 / base_p99, 2),
            "goal": "<= 250 ms",
        },
        {
            "name": "ingest_to_webhook_p99",
            "value": round(hook_p99, 1) if hook_p99 is not None else None,
            "unit": "ms",
            "baseline": round(base_p99, 1),
            "ratio": round(hook_p99 / base_p99, 2) if hook_p99 else None,
            "goal": "<= 1000 ms",
        },
        {
            "name": f"evaluate_{ev['rules']}_rules",
            "value": round(ev["ours_s"] * 1000, 1),
            "unit": "ms",
            "baseline": round(ev["naive_s"] * 1000, 1),
            "ratio": round(ev["naive_s"] / ev["ours_s"], 1),
            "goal": "report (ratio = naive PostgreSQL re-read / ours)",
        },
    ]
    print("RESULT " + json.dumps({"bench": "alerts", "figures": figures}))


if __name__ == "__main__":
    main()
