from wedsync_ops.periodic import PeriodicJob

JOBS = [PeriodicJob("gateway outbox relay", "realtime.relay_outbox", 2.0)]
