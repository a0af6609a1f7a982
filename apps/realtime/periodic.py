from apps.core.periodic import PeriodicJob

JOBS = [PeriodicJob("gateway outbox relay", "realtime.relay_outbox", 2.0)]
