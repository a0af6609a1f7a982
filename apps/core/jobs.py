"""Enqueue Celery work by task name, after the surrounding transaction commits.

Services never import an app's ``tasks.py`` (tasks import services, never the reverse):
they name the task. The Celery app is handed in by the composition root
(`wedsync_ops.celery` calls `bind`), so this module knows no project module. Going
through the app's task registry (not ``send_task``) keeps ``CELERY_TASK_ALWAYS_EAGER``
working in the embedded default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

_app: Any = None


def bind(app: Any) -> None:
    """Called once by the composition root with the project's Celery app."""
    global _app
    _app = app


def app() -> Any:
    if _app is None:  # the composition root imports wedsync_ops.celery at start-up
        raise RuntimeError("no Celery app bound: import wedsync_ops first")
    return _app


def task(name: str) -> Any:
    """The registered task `name`. A worker imports every app's tasks.py when it starts; a
    web process or a management command does not, so the first look-up asks for the same
    imports (autodiscover_tasks is lazy)."""
    tasks = app().tasks
    if name not in tasks:
        app().loader.import_default_modules()
    return tasks[name]


def enqueue_now(
    name: str,
    *args: Any,
    countdown: float = 0,
    on_error: Callable[[Exception], None] | None = None,
    **kwargs: Any,
) -> bool:
    """Send task `name` at once; False (and `on_error`) when the broker refuses it."""
    try:
        task(name).apply_async(args, kwargs or None, countdown=countdown or None)
    except Exception as exc:  # broker away: callers keep a sweep that catches up
        log.warning("could not enqueue %s", name, exc_info=True)
        if on_error is not None:
            on_error(exc)
        return False
    return True


def enqueue(name: str, *args: Any, countdown: float = 0, **kwargs: Any) -> None:
    """Send task `name` once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue_now(name, *args, countdown=countdown, **kwargs))
