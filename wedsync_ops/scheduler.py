"""The embedded default's scheduler: every app's periodic jobs (apps.core.periodic) run on
a thread inside the one server process. The full stack runs them from Celery beat."""

from __future__ import annotations

import logging
import threading
import time

from apps.core.periodic import jobs

log = logging.getLogger(__name__)


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
