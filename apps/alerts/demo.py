"""Demo data of the alerts app: default rules, notification channels, an escalation policy,
platform-wide emergency contacts, a weekly maintenance window. Idempotent (keyed by name)."""

from __future__ import annotations

from datetime import time

from apps.accounts.seeding import SeedContext
from apps.alerts.models import (
    AlertRule,
    EscalationLevel,
    EscalationPolicy,
    MaintenanceWindow,
    NotificationChannel,
)
from apps.weddings.models import EmergencyContact

RULES = [
    dict(
        name="Gateway p99 latency high",
        metric="wedsync_gateway_latency_ms",
        matchers={"quantile": "p99"},
        aggregation="avg",
        window_seconds=60,
        comparator="gt",
        threshold=500,
        wedding_day_threshold=250,
        for_seconds=30,
        keep_firing_for_seconds=60,
        severity="critical",
        emergency_type="latency_spike",
        description="Delivery latency p99 over a minute; tighter on wedding days.",
    ),
    dict(
        name="Gateway error rate",
        metric="wedsync_gateway_error_rate",
        aggregation="avg",
        window_seconds=120,
        comparator="gt",
        threshold=0.05,
        wedding_day_threshold=0.01,
        for_seconds=60,
        severity="critical",
    ),
    dict(
        name="Gateway connections near quota",
        metric="wedsync_gateway_connections",
        aggregation="max",
        window_seconds=60,
        comparator="gt",
        threshold=4500,
        wedding_day_threshold=4000,
        for_seconds=60,
        severity="warning",
        description="Approaching the per-process connection budget (5,000).",
    ),
    dict(
        name="Cache hit ratio low",
        metric="wedsync_cache_hit_ratio",
        matchers={"tier": "total"},
        aggregation="avg",
        window_seconds=300,
        comparator="lt",
        threshold=0.6,
        wedding_day_threshold=0.8,
        for_seconds=120,
        severity="warning",
    ),
    dict(
        name="Database latency high",
        metric="wedsync_db_latency_ms",
        aggregation="p95",
        window_seconds=60,
        comparator="gt",
        threshold=50,
        wedding_day_threshold=25,
        for_seconds=30,
        severity="critical",
        emergency_type="service_degradation",
    ),
    dict(
        name="Redis down",
        metric="wedsync_redis_up",
        aggregation="last",
        window_seconds=30,
        comparator="lt",
        threshold=1,
        for_seconds=10,
        severity="critical",
        emergency_type="service_degradation",
    ),
    dict(
        name="Gateway Redis breaker open",
        metric="wedsync_gateway_breaker_open",
        matchers={"breaker": "redis"},
        aggregation="max",
        window_seconds=30,
        comparator="gte",
        threshold=1,
        for_seconds=0,
        severity="critical",
    ),
    dict(
        name="Collection silent",
        kind="no_data",
        metric="wedsync_db_up",
        no_data_seconds=60,
        severity="warning",
        description="The built-in collector has not reported for 60 s.",
    ),
    dict(
        name="Celery queue backlog",
        metric="wedsync_celery_queue_length",
        aggregation="min",
        window_seconds=120,
        comparator="gt",
        threshold=1000,
        wedding_day_threshold=200,
        for_seconds=60,
        severity="warning",
    ),
]


def seed(ctx: SeedContext) -> None:
    mail, _ = NotificationChannel.objects.update_or_create(
        name="Ops on-call email",
        defaults={"kind": "email", "target": "oncall@wedsync.local"},
    )
    lead, _ = NotificationChannel.objects.update_or_create(
        name="Ops lead email", defaults={"kind": "email", "target": "ops-lead@wedsync.local"}
    )
    policy, created = EscalationPolicy.objects.get_or_create(
        name="Default (wedding-day aware)",
        defaults={"description": "On-call at once, repeated after 5 min; the ops lead after 15."},
    )
    if created or not policy.levels.exists():
        first = EscalationLevel.objects.create(
            policy=policy, order=0, delay_seconds=0, repeat_count=1, repeat_interval_seconds=300
        )
        first.channels.set([mail])
        second = EscalationLevel.objects.create(policy=policy, order=1, delay_seconds=900)
        second.channels.set([lead])
    for spec in ctx.progress(RULES, desc="alert rules"):
        spec = dict(spec)
        name = spec.pop("name")
        AlertRule.objects.update_or_create(
            name=name,
            defaults={
                **spec,
                # No invented runbook host: the rule name links to the alert's own page
                # (what the rule evaluates, history, graph); admins add real runbooks.
                "runbook_url": "",
                "escalation_policy": policy,
            },
        )
    for order, (name, role, email) in enumerate(
        [
            ("WedSync on-call", "Platform on-call", "oncall@wedsync.local"),
            ("Ops lead", "Head of operations", "ops-lead@wedsync.local"),
        ]
    ):
        EmergencyContact.objects.update_or_create(
            name=name,
            wedding=None,
            venue=None,
            defaults={"role": role, "email": email, "order": order},
        )
    MaintenanceWindow.objects.update_or_create(
        name="Tuesday patching",
        defaults={
            "timezone": "Europe/London",
            "start_time": time(3, 0),
            "duration_minutes": 60,
            "weekdays": [2],
            "matchers": {"severity": "warning"},
        },
    )
