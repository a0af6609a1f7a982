"""seed_demo: scaling policies for both pools and a day of decisions for the page."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.accounts.seeding import SeedContext
from apps.scaling import context, forecast, history, services
from apps.scaling.models import Decision, PoolState, ScalingPolicy
from apps.scaling.policy import PolicyInputs, PoolSnapshot, decide
from apps.weddings.models import Region

STEP = timedelta(minutes=2)
HOURS = 24
POLICIES = {
    # 100 connections per Daphne unit; ordinary evenings need ~5 units, max 10x that.
    "web": {"capacity_per_unit": 100, "baseline_units": 5, "min_units": 2},
    # 25 messages/s per worker unit.
    "worker": {"capacity_per_unit": 25, "baseline_units": 2, "min_units": 1},
}


def seed(ctx: SeedContext) -> None:
    # Seeding bulk-inserts weddings (no signals): drop cached forecast contexts.
    context.bump_calendar_version()
    policies = {}
    for pool, values in POLICIES.items():
        policy = ScalingPolicy.objects.filter(pool=pool).first()
        if policy is None:  # keep an admin's edits on re-runs
            policy = ScalingPolicy.objects.create(pool=pool, actuators=["gauges"], **values)
        policies[pool] = policy
    Decision.objects.filter(inputs__demo=True).delete()
    now = timezone.now()
    start = now - timedelta(hours=HOURS)
    ceremonies = history.calendar_ceremonies(start - timedelta(hours=12), now + timedelta(hours=2))
    # No regions yet: the synthetic season shape will do for a demo.
    seasons = (
        forecast.calendar_source.SeasonTable()
        if Region.objects.exists()
        else history.SyntheticSeasons()
    )
    minutes = HOURS * 60
    load = history.generate_load(start, minutes, ceremonies, seasons)
    points = forecast.hourly(start, HOURS + 2, baselines=services.cached_baselines(now))
    steps = int(timedelta(hours=HOURS) / STEP)
    rows = []
    for pool, policy in policies.items():
        config = services.policy_config(policy)
        state = PoolSnapshot(policy.baseline_units)
        scale = 1.0 if pool == "web" else 0.05  # messages/s per connection
        for i in ctx.progress(range(steps), f"scaling: a day of {pool} decisions"):
            at = start + i * STEP
            observed = float(load[min(minutes - 1, int((at - start) / timedelta(minutes=1)))])
            lead_end = at + config.lead_time
            peak = forecast.peak_within(points, at, lead_end)
            value = peak.connections if pool == "web" else peak.messages_per_s
            live = any(
                history.window_of(c)[0] <= at < history.window_of(c)[1] for c in ceremonies
            )
            result = decide(
                config,
                state,
                PolicyInputs(now=at, load=observed * scale, forecast_peak=value, wedding_live=live),
            )
            rows.append(
                Decision(
                    pool=pool,
                    tick=int(at.timestamp()),
                    decided_at=at,
                    rule=result.rule,
                    reason=result.reason,
                    current_units=state.current_units,
                    desired_units=result.desired_units,
                    outcome="applied" if result.changes else "unchanged",
                    actuation=[],
                    inputs={
                        "demo": True,
                        "load": round(observed * scale, 2),
                        "forecast_peak": round(value, 2),
                        "forecast_parts": peak.as_dict(),
                        "wedding_live": live,
                        "load_units": result.load_units,
                        "forecast_units": result.forecast_units,
                    },
                )
            )
            state = result.state
        PoolState.objects.update_or_create(
            pool=pool, defaults={"current_units": state.current_units, "recent_needs": []}
        )
    Decision.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    ctx.stdout.write(
        f"scaling: 2 policies, {len(rows)} demo decisions over {HOURS} h "
        f"({len(ceremonies)} weddings in range)\n"
    )
