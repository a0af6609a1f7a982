from apps.core.periodic import PeriodicJob

# The job runs every 15 s; the task decides on a 30 s grid, or 15 s in wedding-day mode
# (a unique tick key makes the extra runs no-ops).
JOBS = [
    PeriodicJob("scaling-tick", "scaling.tick", 15),
    PeriodicJob("scaling-forecast-refresh", "scaling.refresh_forecast", 60),
]
