"""The periodic jobs of every app, in one registry.

Each app may hold a ``periodic.py`` with ``JOBS = [PeriodicJob(...)]``. In the
full stack they become Celery beat entries (django-celery-beat stores them in
the database, editable in admin); in the embedded default a thread inside the
server process runs them.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # registered Celery task name
    every_seconds: float
    kwargs: dict = field(default_factory=dict)


def jobs() -> list[PeriodicJob]:
    found: list[PeriodicJob] = []
    for app in settings.INSTALLED_APPS:
        if not app.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{app}.periodic")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.periodic":
                raise
            continue
        found.extend(getattr(module, "JOBS", []))
    return found


class EmbeddedScheduler:
    """Runs the periodic jobs in-process (embedded default only)."""

    def __init__(self, tick: float = 0.5):
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="embedded-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from django.db import close_old_connections

        # The project's app itself, not celery.current_app: "current" is per thread and
        # on this thread would be Celery's empty default app (every job NotRegistered).
        from wedsync_ops.celery import app

        # autodiscover_tasks() imports each app's tasks.py when a worker starts; this
        # process is no worker, so ask for the same imports (jobs are named, not imported).
        app.loader.import_default_modules()

        due: dict[str, float] = {}
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            for job in jobs():
                if due.get(job.name, 0.0) > now:
                    continue
                due[job.name] = now + job.every_seconds
                try:
                    app.tasks[job.task].apply(kwargs=job.kwargs)
                except Exception:  # one failing job must not stop the others
                    log.exception("periodic job %s failed", job.name)
                finally:
                    close_old_connections()


scheduler = EmbeddedScheduler()
