"""The Celery app: tasks are discovered in each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init

from apps.core import jobs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")

app = Celery("wedsync_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
jobs.bind(app)  # services enqueue by task name through apps.core.jobs


@app.task(name="wedsync_ops.ping")
def ping(value: str = "pong") -> str:
    """Round trip used by readiness checks and the worker test."""
    return value


@app.on_after_finalize.connect
def _register_periodic_jobs(sender: Celery, **_: object) -> None:
    from apps.core.periodic import jobs as periodic_jobs

    for job in periodic_jobs():
        sender.add_periodic_task(
            job.every_seconds, sender.signature(job.task, kwargs=job.kwargs), name=job.name
        )


@beat_init.connect
def _one_active_beat(sender=None, **_: object) -> None:
    """One active beat at a time; more beats wait as standbys (wedsync_ops/beat_lock.py)."""
    from wedsync_ops.beat_lock import on_beat_init

    on_beat_init(sender)
