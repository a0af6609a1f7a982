"""Periodic jobs of the status pages (Celery beat in the full stack, a thread when embedded)."""

from apps.core.periodic import PeriodicJob
from apps.statuspages import conf

JOBS = [
    PeriodicJob(
        "status pages: notify subscribers",
        "statuspages.notify_pass",
        conf.get("NOTIFY_EVERY_SECONDS"),
    )
]
