"""Periodic jobs of the monitor (Celery beat in the full stack, a thread when embedded)."""

from apps.core.periodic import PeriodicJob

JOBS = [
    # Ticks every second; the task itself decides whether collection is due (5 s, or
    # 1 s while a wedding is live) and lets only one worker run per interval.
    PeriodicJob("monitoring: built-in collection", "monitoring.collect", 1.0),
    PeriodicJob("monitoring: scrape due targets", "monitoring.scrape_due", 1.0),
    PeriodicJob("monitoring: rollups", "monitoring.rollup", 60.0),
    PeriodicJob("monitoring: retention", "monitoring.retention", 600.0),
]
