"""Periodic jobs of the alerts app (Celery beat in the full stack, a thread when embedded)."""

from apps.alerts import conf
from apps.core.periodic import PeriodicJob

JOBS = [
    PeriodicJob("alerts-periodic-pass", "alerts.periodic_pass", conf.PERIODIC_SECONDS),
    # Supplier quota budgets change only when weddings or quotas do: every 5 minutes is ample.
    PeriodicJob("alerts-quota-budget", "alerts.quota_budget", 300),
]
