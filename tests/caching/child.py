"""A second process for the cache tests: reads JSON commands on stdin, answers on stdout.

It runs the real module-level cache (apps.caching.service.cache) with the test
database and Redis from its environment, like a second Daphne or Celery process.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.caching import bundles  # noqa: E402
from apps.caching.service import cache  # noqa: E402

dropped: dict[str, float] = {}
dropped_event = threading.Condition()


def _record(keys: list, tags: list) -> None:
    now = time.time()
    with dropped_event:
        for name in [*keys, *("tag:" + t for t in tags)]:
            dropped[name] = now
        dropped_event.notify_all()


cache.on_invalidate(_record)
client = redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


def slow_value(key: str, sleep: float, counter: str) -> str:
    client.incr(counter)
    time.sleep(sleep)
    return f"{key}-loaded-by-{os.getpid()}"


def handle(cmd: dict) -> object:
    op = cmd["op"]
    if op == "start":
        cache.start()
        return cache.subscribed.is_set()
    if op == "bundle":
        return bundles.wedding_bundle(cmd["id"])["couple_name"]
    if op == "supplier_weddings":
        return sorted(bundles.supplier_wedding_ids(cmd["id"]))
    if op == "peek":
        return cache.peek(cmd["key"]) is not None
    if op == "wait_dropped":  # when did the listener drop this key (or tag)?
        deadline = time.time() + cmd.get("timeout", 2.0)
        with dropped_event:
            while cmd["name"] not in dropped and time.time() < deadline:
                dropped_event.wait(0.05)
            return dropped.pop(cmd["name"], None)
    if op == "slow_load":
        return cache.get_or_load(
            cmd["key"], lambda: slow_value(cmd["key"], cmd["sleep"], cmd["counter"])
        )
    if op == "get_many_slow":  # every key it loads counts in Redis under counter:<key>

        def load_many(missing: list[str]) -> dict:
            for key in missing:
                client.incr(f"{cmd['counter']}:{key}")
            time.sleep(cmd["sleep"])
            return {key: f"{key}-loaded-by-{os.getpid()}" for key in missing}

        return cache.get_many(cmd["keys"], load_many)
    if op == "get":
        return cache.get_or_load(cmd["key"], lambda: cmd["value"])
    if op == "stats":
        return cache.stats()
    raise ValueError(f"unknown op {op}")


def main() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = orjson.loads(line)
        try:
            reply = {"ok": True, "result": handle(cmd)}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(orjson.dumps(reply, default=str).decode() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
