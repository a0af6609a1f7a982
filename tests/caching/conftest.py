"""Fixtures of the cache tests: a second cache process and calendar rows."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """A second process running the real cache; `call(op, **args)` runs one command."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "caching" / "child.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"child did not start: {ready!r} {self.proc.stderr.read()[-3000:]}")
        self._lock = threading.Lock()

    def call(self, op: str, **args) -> object:
        with self._lock:
            self.proc.stdin.write(orjson.dumps({"op": op, **args}).decode() + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"child died: {self.proc.stderr.read()[-3000:]}")
        reply = orjson.loads(line)
        if not reply["ok"]:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def start_child(service_env) -> Iterator[Callable[..., Child]]:
    started: list[Child] = []

    def start(extra_env: dict | None = None) -> Child:
        child = Child({**service_env, **(extra_env or {})})
        started.append(child)
        return child

    yield start
    for child in started:
        child.stop()


@pytest.fixture
def calendar(db) -> Callable[..., object]:
    """Factory: a wedding (with region, venue, suppliers) starting `starts_in` from now."""
    from apps.weddings.models import Region, Supplier, Venue, Wedding

    counter = {"n": 0}

    def make(starts_in: timedelta = timedelta(days=10), suppliers: int = 1, name: str = ""):
        counter["n"] += 1
        n = counter["n"]
        region, _ = Region.objects.get_or_create(
            code="uk-south", defaults={"name": "UK South", "timezone": "UTC"}
        )
        venue = Venue.objects.create(
            name=f"Venue {n}", venue_type="church", region=region, timezone="UTC"
        )
        start = datetime.now(UTC) + starts_in
        end = start + timedelta(hours=6)
        wedding = Wedding.objects.create(
            date=start.date(),
            ceremony_time=start.time().replace(microsecond=0),
            reception_end_time=end.time().replace(microsecond=0),
            venue=venue,
            couple_name=name or f"Couple {n}",
        )
        for i in range(suppliers):
            supplier = Supplier.objects.create(name=f"Supplier {n}.{i}", kind="photographer")
            wedding.suppliers.add(supplier)
        return wedding

    return make
