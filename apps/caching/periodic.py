"""Hourly warming: each wedding is warmed when it enters the 48 h horizon and kept warm."""

from apps.core.periodic import PeriodicJob

JOBS = [PeriodicJob("cache-warm-upcoming", "caching.warm_upcoming", 3600.0)]
