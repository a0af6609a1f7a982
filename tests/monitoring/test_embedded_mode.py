"""The embedded default (SQLite, no Redis, eager jobs): ingest, upsert, rollups, queries,
collection and its schedule all work there too. Run in a child process without
DATABASE_URL / REDIS_URL, the way `make run` starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import json, time
from apps.monitoring.ingest import ingest, IngestError
from apps.monitoring.rollups import rollup_all
from apps.monitoring.query import query_range, latest
from apps.monitoring.collect import collect_if_due
from django.conf import settings
now = time.time(); base = now - now % 3600 - 7200
ingest([{"name": "m", "labels": {"a": "1"}, "value": float(i), "ts": base + i}
        for i in range(0, 7200, 10)])
ingest([{"name": "m", "labels": {"a": "1"}, "value": -1.0, "ts": base}])  # retried: upsert
try:
    ingest([{"name": "m", "value": float("nan")}])
    refused = None
except IngestError as exc:
    refused = exc.errors[0]["field"]
out = {
    "full_stack": settings.FULL_STACK,
    "vendor": __import__("django.db").db.connection.vendor,
    "rollups": rollup_all(),
    "hourly_max": query_range("m", {}, base, base + 7200, step=3600, agg="max")[0]["points"],
    "first_min": query_range("m", {}, base, base + 60, step=60, agg="min")[0]["points"],
    "latest": latest("m")[0]["value"],
    "refused": refused,
    "collect": [collect_if_due(), collect_if_due()],
}
print("RESULT " + json.dumps(out))
"""


def test_monitoring_works_in_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"WEDSYNC_VAR_DIR": str(tmp_path), "DEBUG": "true", "HTTPS": "false"})
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=240)
    done = subprocess.run(
        [*run, "shell", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    out = json.loads(line[7:])
    assert out["full_stack"] is False and out["vendor"] == "sqlite"
    assert out["rollups"] == {"1m": 120, "1h": 2}
    assert [v for _, v in out["hourly_max"]] == [3590.0, 7190.0]
    assert out["first_min"][0][1] == -1.0
    assert out["latest"] == 7190.0
    assert out["refused"] == "value"
    assert out["collect"][0] > 0 and out["collect"][1] is None
