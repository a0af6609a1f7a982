"""The embedded default (SQLite, no Redis): migrations, demo and the overlap rule still hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import io, json, threading
from datetime import date, time
from django.core.exceptions import ValidationError
from apps.accounts.seeding import SeedContext
from apps.weddings import demo, live
from apps.weddings.models import Venue, Wedding
from apps.weddings.services import save_wedding

demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
venue = Venue.objects.get(name="Old Mill, Boston")
day = date(2030, 6, 15)
barrier = threading.Barrier(2)
results = []

def book(start, end, couple):
    from django.db import connection
    barrier.wait()
    try:
        save_wedding(venue=venue, date=day, ceremony_time=start, reception_end_time=end,
                     couple_name=couple)
        results.append("created")
    except ValidationError as exc:
        results.append(sorted(exc.message_dict))
    finally:
        connection.close()

threads = [threading.Thread(target=book, args=(time(14), time(22), "A")),
           threading.Thread(target=book, args=(time(18), time(1), "B"))]
for t in threads: t.start()
for t in threads: t.join()
print("RESULT", json.dumps({
    "results": sorted(map(str, results)),
    "at_venue": Wedding.objects.filter(venue=venue, date=day).count(),
    "weddings": Wedding.objects.count(),
    "live": live.live_weddings().count(),
}))
"""


def test_embedded_sqlite_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        WEDSYNC_VAR_DIR=str(tmp_path), DEBUG="true", DJANGO_SETTINGS_MODULE="wedsync_ops.settings"
    )
    env.pop("SECRET_KEY", None)
    manage = [sys.executable, "manage.py"]
    migrate = subprocess.run(
        [*manage, "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stderr
    run = subprocess.run(
        [*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["results"] == ["['venue']", "created"]
    assert out["at_venue"] == 1
    assert out["weddings"] > 3000 and out["live"] >= 4
