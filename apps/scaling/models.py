"""Scaling configuration per pool, pool state, emergencies and the decision record."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Pool(models.TextChoices):
    # web units serve gateway connections; worker units serve the message rate.
    WEB = "web"
    WORKER = "worker"


# What a policy may actuate (apps/scaling/actuators.py implements each).
ACTUATORS = ("gauges", "celery", "webhook")


class Mode(models.TextChoices):
    ACTIVE = "active"
    SHADOW = "shadow"  # decide and record, never actuate (forecast-only)


class ScalingPolicy(models.Model):
    """How one pool is sized. Edited by admins (admin or API); validated in clean()."""

    pool = models.CharField(max_length=10, choices=Pool.choices, unique=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ACTIVE)
    enabled = models.BooleanField(default=True)
    capacity_per_unit = models.FloatField(
        help_text="Connections (web) or messages/s (worker) one unit serves at 100 %."
    )
    baseline_units = models.PositiveIntegerField(
        default=2, help_text="The capacity the pool runs with on an ordinary day."
    )
    min_units = models.PositiveIntegerField(default=1)
    max_units = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank: 10 × baseline units (the ceiling allowed)."
    )
    emergency_units = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank: the maximum."
    )
    target_utilisation_low = models.FloatField(default=0.70)
    target_utilisation_high = models.FloatField(default=0.75)
    lead_time_seconds = models.PositiveIntegerField(
        default=900, help_text="Scale up this far ahead of a forecast peak."
    )
    stabilisation_seconds = models.PositiveIntegerField(
        default=600, help_text="Load must stay low this long before scaling down."
    )
    actuators = models.JSONField(
        default=list,
        blank=True,
        help_text='Any of "gauges", "celery", "webhook" (empty: settings SCALING_ACTUATORS).',
    )
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True)
    cost_per_unit_hour = models.FloatField(default=0.10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pool"]
        verbose_name_plural = "scaling policies"

    def __str__(self) -> str:
        return f"{self.pool} ({self.mode})"

    def save(self, *args, **kwargs):
        # One write path for admin, API and code: nothing invalid reaches the table.
        self.full_clean()
        super().save(*args, **kwargs)

    @property
    def effective_max_units(self) -> int:
        return self.max_units if self.max_units is not None else 10 * self.baseline_units

    @property
    def effective_emergency_units(self) -> int:
        return (
            self.emergency_units if self.emergency_units is not None else self.effective_max_units
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.capacity_per_unit is None or self.capacity_per_unit <= 0:
            errors["capacity_per_unit"] = "Capacity per unit must be greater than zero."
        if not self.baseline_units:
            errors["baseline_units"] = "Baseline units must be at least 1."
        else:
            ceiling = 10 * self.baseline_units
            if self.max_units is not None and self.max_units > ceiling:
                errors["max_units"] = (
                    f"Maximum {self.max_units} is above 10 × baseline units ({ceiling})."
                )
            if self.min_units > self.effective_max_units:
                errors["min_units"] = (
                    f"Minimum {self.min_units} is greater than maximum {self.effective_max_units}."
                )
            if self.emergency_units is not None and not (
                self.min_units <= self.emergency_units <= self.effective_max_units
            ):
                errors["emergency_units"] = (
                    f"Emergency units {self.emergency_units} must lie between the minimum "
                    f"{self.min_units} and the maximum {self.effective_max_units}."
                )
        low, high = self.target_utilisation_low, self.target_utilisation_high
        if not (0 < low <= high <= 1):
            errors["target_utilisation_high"] = (
                f"Target utilisation needs 0 < low ({low}) <= high ({high}) <= 1."
            )
        actuators = self.actuators or []
        # Admin's JSON field takes any JSON: `true` or `[1]` raised TypeError here (issue 15).
        if not isinstance(actuators, list) or not all(isinstance(a, str) for a in actuators):
            errors["actuators"] = f"Must be a list of names from {', '.join(ACTUATORS)}."
            actuators = []
        unknown = set(actuators) - set(ACTUATORS)
        if unknown:
            errors["actuators"] = f"Unknown actuator(s): {', '.join(sorted(unknown))}."
        if "celery" in actuators and self.pool != Pool.WORKER:
            errors["actuators"] = "The celery actuator sizes worker pools only."
        if "webhook" in actuators and not (self.webhook_url and self.webhook_secret):
            errors["webhook_url"] = "The webhook actuator needs a URL and a signing secret."
        if errors:
            raise ValidationError(errors)


class PoolState(models.Model):
    """What each pool runs now and the scale-down bookkeeping (shared by all workers)."""

    pool = models.CharField(max_length=10, choices=Pool.choices, unique=True)
    current_units = models.PositiveIntegerField()
    # Since when the need has stayed below current, and the needs seen in the window.
    low_since = models.DateTimeField(null=True, blank=True)
    recent_needs = models.JSONField(default=list, blank=True)  # [[unix ts, units], ...]
    last_change_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.pool}: {self.current_units}"


class EmergencyCapacity(models.Model):
    """An emergency request: pools jump to their emergency capacity while it is active."""

    reason = models.CharField(max_length=500)
    requested_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(null=True, blank=True, help_text="Blank: until ended.")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name_plural = "emergency capacity requests"

    def __str__(self) -> str:
        return self.reason

    @classmethod
    def active(cls, at=None) -> models.QuerySet:
        at = at or timezone.now()
        return cls.objects.filter(requested_at__lte=at, ended_at__isnull=True).filter(
            models.Q(until__isnull=True) | models.Q(until__gt=at)
        )


class Decision(models.Model):
    """One decision for one pool: its inputs, the rule that decided, and what happened."""

    class Outcome(models.TextChoices):
        PENDING = "pending"  # recorded, actuation after commit
        APPLIED = "applied"
        UNCHANGED = "unchanged"
        SHADOW = "shadow"
        FAILED = "failed"
        PARTIAL = "partial"  # some actuators applied, others failed: reported, retried

    pool = models.CharField(max_length=10, choices=Pool.choices)
    # Unix seconds of the tick (30 s or 15 s grid); null for out-of-band (emergency) decisions.
    tick = models.BigIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    rule = models.CharField(max_length=40)
    reason = models.CharField(max_length=300, blank=True)
    inputs = models.JSONField(default=dict)
    current_units = models.PositiveIntegerField()
    desired_units = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    actuation = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            # One decision per pool per tick, whichever worker gets there first.
            models.UniqueConstraint(
                fields=["pool", "tick"],
                condition=models.Q(tick__isnull=False),
                name="scaling_decision_one_per_tick",
            )
        ]
        indexes = [models.Index(fields=["pool", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.pool} {self.current_units}→{self.desired_units} ({self.rule})"
