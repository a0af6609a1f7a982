"""Hourly warming: each wedding is warmed when it enters the 48 h horizon and kept warm."""

from wedsync_ops.periodic import PeriodicJob

JOBS = [PeriodicJob("cache-warm-upcoming", "caching.warm_upcoming", 3600.0)]
