"""Periodic jobs of the alerts app (Celery beat in the full stack, a thread when embedded)."""

from apps.alerts import conf
from apps.core.periodic import PeriodicJob

JOBS = [PeriodicJob("alerts-periodic-pass", "alerts.periodic_pass", conf.PERIODIC_SECONDS)]
