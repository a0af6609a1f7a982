"""Calendar bench: seeding a year of weddings with bulk inserts vs the per-row write path.

Figure: weddings written per second by the demo seed (bulk_create of weddings and their
supplier rows, instants and estimates computed in Python).
Baseline, same run, same database: the same kind of weddings written one by one through
services.save_wedding (overlap check, save, suppliers.set: what the API does per request).
Also reported: /api/v1/insights/ build time over the seeded year (no baseline; context).

Runs against PostgreSQL (DATABASE_URL, default the local one) in a private database
`<name>_calbench` that it drops and recreates. Usage:
    .venv/bin/python bench/bench_calendar.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wedsync")
    head, _, name = base.rpartition("/")
    return f"{head}/{name.split('?')[0]}_calbench"


def _recreate(url: str) -> None:
    import psycopg

    head, _, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer per-row writes (< 60 s)")
    args = parser.parse_args()
    per_row_n = 150 if args.quick else 600

    url = _database_url()
    _recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "wedsync_ops.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from apps.accounts.seeding import SeedContext
    from apps.weddings import demo, insights
    from apps.weddings.models import Wedding
    from apps.weddings.services import save_wedding

    print(f"database {url.rpartition('/')[2]}; machine shared with other engineers: noisy")
    started = time.perf_counter()
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    seed_s = time.perf_counter() - started
    seeded = Wedding.objects.count()
    bulk_rate = seeded / seed_s
    print(f"demo seed (bulk): {seeded} weddings in {seed_s:.2f} s = {bulk_rate:,.0f} weddings/s")

    # Baseline: take real seeded weddings, remove them, write them back one by one.
    sample = list(
        Wedding.objects.select_related("venue")
        .prefetch_related("suppliers")
        .order_by("?")[:per_row_n]
    )
    rows = [
        (
            dict(
                venue=w.venue,
                date=w.date,
                ceremony_time=w.ceremony_time,
                reception_end_time=w.reception_end_time,
                couple_name=w.couple_name,
                expected_guests=w.expected_guests,
                status=w.status,
            ),
            list(w.suppliers.all()),
        )
        for w in sample
    ]
    Wedding.objects.filter(pk__in=[w.pk for w in sample]).delete()
    started = time.perf_counter()
    for fields, suppliers in rows:
        save_wedding(suppliers=suppliers, **fields)
    per_row_s = time.perf_counter() - started
    per_row_rate = len(rows) / per_row_s
    print(
        f"per-row save_wedding (baseline): {len(rows)} weddings in {per_row_s:.2f} s = "
        f"{per_row_rate:,.0f} weddings/s"
    )
    ratio = bulk_rate / per_row_rate
    print(f"ratio bulk / per-row: {ratio:.1f}x")

    timings = []
    for _ in range(3 if args.quick else 7):
        t = time.perf_counter()
        insights.build()
        timings.append((time.perf_counter() - t) * 1000)
    insights_ms = statistics.median(timings)
    print(f"insights.build() over {seeded} weddings: median {insights_ms:.0f} ms")

    from django.db import connections

    connections.close_all()
    _drop(url)
    result = {
        "bench": "calendar",
        "figures": [
            {
                "name": "demo seed write rate (bulk)",
                "value": round(bulk_rate),
                "unit": "weddings/s",
                "baseline": round(per_row_rate),
                "ratio": round(ratio, 1),
                "goal": f"seed a year ({seeded} weddings) in < 20 s; took {seed_s:.1f} s",
            },
            {
                "name": "insights build (year of weddings)",
                "value": round(insights_ms),
                "unit": "ms",
                "baseline": None,
                "ratio": None,
                "goal": "page renders in well under a second",
            },
        ],
    }
    print("RESULT " + json.dumps(result))


def _drop(url: str) -> None:
    import psycopg

    head, _, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
