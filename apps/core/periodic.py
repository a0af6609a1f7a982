"""The periodic job declaration and the registry of every app's jobs.

Each app may hold a ``periodic.py`` with ``JOBS = [PeriodicJob(...)]``. In the full stack
they become Celery beat entries (django-celery-beat keeps them in the database, editable
in admin); in the embedded default a thread inside the server process runs them
(`wedsync_ops.scheduler`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.core.discovery import app_modules


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # registered Celery task name: jobs are named, never imported
    every_seconds: float
    kwargs: dict = field(default_factory=dict)


def jobs() -> list[PeriodicJob]:
    """Every installed app's ``periodic.JOBS``, in INSTALLED_APPS order."""
    return [job for _, module in app_modules("periodic") for job in getattr(module, "JOBS", [])]
