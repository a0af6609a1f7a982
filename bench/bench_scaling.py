"""Scaling manager: decision latency vs a naive decision, and the year backtest.

    .venv/bin/python bench/bench_scaling.py [--quick]

1. Decision p99 (goal <= 10 ms): services.decide_pool end to end (forecast peak from
   the shared 168-hour baseline in Redis, calendar and emergency queries, the locked
   pool state, the decision row) vs a naive decision that re-learns the forecast from
   four weeks of history on every call (what a first version would do). Same DB, same run.
2. Backtest over a generated year of load from the demo calendar (seed_demo, run first;
   --quick: 8 weeks of May-June with a synthetic demo-shaped calendar): predictive vs
   reactive HPA-like vs static peak, side by side.

Runs against DATABASE_URL (default: a private database wedsync_scaling_bench on the local
PostgreSQL, created and migrated if missing) and REDIS_URL (default redis DB 7).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _servers import ensure_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wedsync_scaling_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("REDIS_PREFIX", "wsoscaling")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def history_fn(value_at):
    def history(metric, start, end):
        hours = int((end - start).total_seconds() // 3600)
        return [
            ((start + timedelta(hours=i)).timestamp(), value_at(start + timedelta(hours=i)))
            for i in range(hours)
        ]

    return history


BENCH_REGION = "bench-uk"


def setup_calendar(now: datetime) -> None:
    """A region of its own with a weekend of weddings around now, rebuilt on every run.

    Re-runnable on any database: the weddings of an earlier run (another day, another
    version of this script) are deleted first rather than matched, so they can never
    collide with the new ones on the venue overlap constraint; nothing outside the
    bench's own region is touched. One transaction under an advisory lock, so two runs
    sharing a database (a smoke beside a full run) take turns instead of colliding.
    """
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('bench_scaling.calendar'))")
        _rebuild_calendar(now)


def _rebuild_calendar(now: datetime) -> None:
    from datetime import time as dtime

    from apps.weddings.models import Region, RegionMonth, Venue, Wedding

    region, _ = Region.objects.get_or_create(
        code=BENCH_REGION, defaults={"name": "Bench UK", "timezone": "Europe/London"}
    )
    for m in range(1, 13):
        RegionMonth.objects.get_or_create(
            region=region,
            month=m,
            defaults={
                "season": "peak" if 5 <= m <= 9 else "off",
                "multiplier": 1.5 if 5 <= m <= 9 else 1.0,
            },
        )
    Wedding.objects.filter(venue__region=region).delete()
    around_now = Wedding.objects.filter(
        starts_at__gte=now - timedelta(days=2), starts_at__lt=now + timedelta(days=3)
    )
    if around_now.count() >= 50:
        return  # the demo calendar (seed_demo, full mode) already has weddings around now
    for i in range(200):  # one venue each: a venue holds one wedding at a time
        venue, _ = Venue.objects.get_or_create(
            name=f"Bench Hall {i}",
            region=region,
            defaults={"venue_type": "banquet_hall", "timezone": "Europe/London"},
        )
        Wedding.objects.create(
            venue=venue,
            date=(now + timedelta(days=i % 5 - 2)).date(),
            ceremony_time=dtime(12 + i % 5),
            reception_end_time=dtime(22),
            couple_name=f"Bench {i}",
            expected_guests=80 + i % 120,
        )


def bench_decisions(samples: int) -> dict:
    # Four weeks of history the monitor would hold: a daily wave around 300 connections.
    import math

    from django.core.cache import cache

    from apps.scaling import forecast, services
    from apps.scaling.models import Decision, ScalingPolicy
    from apps.scaling.policy import PolicyInputs, decide

    forecast.monitoring_history = history_fn(
        lambda at: 300 + 150 * math.sin(at.hour / 24 * 2 * math.pi)
    )
    policy, _ = ScalingPolicy.objects.get_or_create(
        pool="web", defaults={"capacity_per_unit": 100, "baseline_units": 5, "min_units": 2}
    )
    now = datetime.now(UTC)
    setup_calendar(now)
    cache.clear()
    services.cached_baselines(now)  # warm, as the periodic job keeps it

    def naive(at: datetime, load: float) -> None:
        """Re-learn the forecast on every decision (no shared baseline), then decide."""
        from apps.scaling.observe import current_load

        load = current_load("web") or load
        points = forecast.hourly(at, 2)
        peak = forecast.peak_within(points, at, at + timedelta(seconds=policy.lead_time_seconds))
        state = services.locked_state  # same DB work for the record as ours
        from django.db import transaction

        with transaction.atomic():
            row = state(policy)
            result = decide(
                services.policy_config(policy),
                services._snapshot(row),
                PolicyInputs(now=at, load=load, forecast_peak=peak.connections),
            )
            Decision.objects.create(
                pool="web",
                decided_at=at,
                rule=result.rule,
                current_units=row.current_units,
                desired_units=result.desired_units,
                inputs={"load": load},
            )

    refreshed: set[int] = set()

    # Three gateway processes report connections: the decision reads their latest values.
    from apps.monitoring.ingest import ingest

    ingest(
        [
            {
                "name": "wedsync_gateway_connections",
                "labels": {"process": f"bench-{i}"},
                "value": 150.0,
                "ts": time.time(),
            }
            for i in range(3)
        ]
    )

    def ours(at: datetime, load: float) -> None:
        services.decide_pool(policy, at)  # observes the load itself, as the tick does

    def refresh_like_the_job(at: datetime) -> None:
        """The periodic refresh (every 60 s) keeps the context warm; not timed here."""
        hour = int(at.timestamp()) // 3600
        if hour not in refreshed:
            refreshed.add(hour)
            t = time.perf_counter()
            services.refresh_forecast_context(at)
            refresh_ms.append((time.perf_counter() - t) * 1000)

    refresh_ms: list[float] = []

    timings = {}
    for name, fn in (("naive", naive), ("ours", ours)):
        for i in range(20):  # warm-up
            fn(now + timedelta(seconds=i), 400.0)
        durations = []
        for i in range(samples):
            at = now + timedelta(seconds=30 * i)
            load = 300 + (i * 37) % 900
            if name == "ours":
                refresh_like_the_job(at)
            t = time.perf_counter()
            fn(at, float(load))
            durations.append((time.perf_counter() - t) * 1000)
        timings[name] = durations
    Decision.objects.filter(pool="web", decided_at__gte=now - timedelta(minutes=1)).delete()
    out = {
        name: {
            "p50": statistics.median(d),
            "p99": percentile(d, 0.99),
            "max": max(d),
            "n": len(d),
        }
        for name, d in timings.items()
    }
    out["refresh_ms"] = statistics.median(refresh_ms) if refresh_ms else None
    # The policy alone (pure function, no I/O): what the decision logic itself costs.
    from apps.scaling.policy import PoolSnapshot

    config = services.policy_config(policy)
    state = PoolSnapshot(5)
    pure = []
    for i in range(samples * 10):
        inputs = PolicyInputs(
            now=now + timedelta(seconds=30 * i), load=300 + (i * 37) % 900, forecast_peak=600.0
        )
        t = time.perf_counter()
        state = decide(config, state, inputs).state
        pure.append((time.perf_counter() - t) * 1000)
    out["policy_only"] = {"p50": statistics.median(pure), "p99": percentile(pure, 0.99)}
    return out


def bench_backtest(quick: bool) -> dict:
    from apps.scaling import backtest
    from apps.scaling.management.commands.backtest_scaling import run

    if quick:  # eight weeks of May-June with a synthetic demo-shaped calendar
        start, end = datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 6, 29, tzinfo=UTC)
        calendar = "synthetic"
    else:  # the demo calendar's year (seed_demo registers a year of weddings from today)
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=365)
        calendar = "demo"
    out = ROOT / "bench" / "out" / "scaling"
    t = time.perf_counter()
    result = run(
        start,
        end,
        source="generated",
        calendar=calendar,
        out=out,
        config=backtest.BacktestConfig(),
        png=True,
        quiet=True,
    )
    result["seconds"] = time.perf_counter() - t
    result["range"] = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.quick:  # the demo calendar the year backtest replays (idempotent)
        import io

        call_command("seed_demo", "--quiet", stdout=io.StringIO())

    samples = 300 if args.quick else 1000
    d = bench_decisions(samples)
    ratio = d["naive"]["p99"] / d["ours"]["p99"]
    load1 = os.getloadavg()[0]
    print(
        f"Decision latency ({samples} decisions each; shared 2-core machine, load average "
        f"{load1:.1f}: noisy)"
    )
    for name in ("ours", "naive"):
        s = d[name]
        print(f"  {name:6} p50 {s['p50']:.2f} ms  p99 {s['p99']:.2f} ms  max {s['max']:.2f} ms")
    print(f"  naive p99 / ours p99 = {ratio:.1f}x   goal: ours p99 <= 10 ms")
    pure = d["policy_only"]
    print(
        f"  policy function alone (no I/O): p50 {pure['p50'] * 1000:.1f} µs, "
        f"p99 {pure['p99'] * 1000:.1f} µs"
    )
    print(
        f"  (forecast context refresh, a periodic job outside the decision: "
        f"median {d['refresh_ms']:.1f} ms)"
    )

    from apps.scaling import backtest

    b = bench_backtest(args.quick)
    print(f"\nBacktest {b['range']} ({b['source']}), {b['seconds']:.1f} s")
    runs = b["policies"]
    cols = [
        "policy",
        "under_provisioned_minutes",
        "under_provisioned_pct",
        "under_minutes_wedding_saturdays",
        "unit_hours",
        "over_provisioned_unit_hours",
        "cost",
        "scale_events",
    ]
    print("  " + " | ".join(cols))
    for r in runs:
        print("  " + " | ".join(str(r[c]) for c in cols))
    g = b["goals"]
    print(f"  chart: {b['chart_html']} {b['chart_png'] or ''}")
    by = {r["policy"]: r for r in runs}
    static_uh, pred_uh = by["static_peak"]["unit_hours"], by["predictive"]["unit_hours"]
    sat = g["wedding_saturday_under_minutes"]
    figures = [
        {
            "name": "decision_p99",
            "value": round(d["ours"]["p99"], 3),
            "unit": "ms",
            "baseline": round(d["naive"]["p99"], 3),
            "ratio": round(ratio, 2),
            "goal": "<= 10 ms",
        },
        {
            "name": "decision_p50",
            "value": round(d["ours"]["p50"], 3),
            "unit": "ms",
            "baseline": round(d["naive"]["p50"], 3),
            "ratio": round(d["naive"]["p50"] / d["ours"]["p50"], 2),
            "goal": f"(context; load average {os.getloadavg()[0]:.1f})",
        },
        {
            "name": "policy_function_p99",
            "value": round(d["policy_only"]["p99"] * 1000, 2),
            "unit": "us",
            "baseline": None,
            "ratio": None,
            "goal": "(context: the decision logic without I/O)",
        },
        {
            "name": "backtest_under_provisioned_minutes",
            "value": g["under_provisioned_pct"],
            "unit": "%",
            "baseline": by["reactive"]["under_provisioned_pct"],
            "ratio": None,
            "goal": "<= 1 % (baseline: reactive HPA-like)",
        },
        {
            "name": "backtest_unit_hours_vs_static_peak",
            "value": pred_uh,
            "unit": "unit-hours",
            "baseline": static_uh,
            "ratio": round(pred_uh / static_uh, 3),
            "goal": ">= 30 % fewer than static peak (ratio <= 0.70)",
        },
        {
            "name": "backtest_wedding_saturday_under_minutes",
            "value": sat["predictive"],
            "unit": "minutes",
            "baseline": sat["reactive"],
            "ratio": round(sat["predictive"] / sat["reactive"], 3) if sat["reactive"] else None,
            "goal": "fewer than reactive",
        },
    ]
    del backtest
    print(
        "RESULT "
        + json.dumps(
            {
                "bench": "scaling",
                "figures": figures,
                "backtest_range": b["range"],
                "chart": b["chart_png"],
            }
        )
    )


if __name__ == "__main__":
    main()
