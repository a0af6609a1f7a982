"""The guard on every write to an alert rule: the API, Django admin, management commands and
tasks all call check_rule_change() before they save, so the rules are the same everywhere.

Two kinds of refusal:
- RuleError: the rule itself is wrong (a negative threshold for a ratio, a ratio above 1, …),
  named per field;
- FreezeError (apps.weddings.freeze): the change is risky while a wedding is live (disabling
  or deleting a rule, lowering its severity); an admin may override with a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from apps.weddings.freeze import check_freeze

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Unit:
    """What a metric's values are, judged from its name (Prometheus naming conventions)."""

    label: str  # shown beside thresholds: "ms", "ratio 0–1", …
    low: float | None = 0.0  # smallest sensible value (None: unbounded)
    high: float | None = None


UNIT_SUFFIXES: list[tuple[str, Unit]] = [
    ("_ratio", Unit("ratio 0–1", 0.0, 1.0)),
    ("_error_rate", Unit("ratio 0–1", 0.0, 1.0)),
    ("_up", Unit("1 = up, 0 = down", 0.0, 1.0)),
    ("_open", Unit("1 = open, 0 = closed", 0.0, 1.0)),
    ("_percent", Unit("%", 0.0, 100.0)),
    ("_ms", Unit("ms")),
    ("_seconds", Unit("s")),
    ("_bytes", Unit("bytes")),
    ("_total", Unit("count")),
    ("_connections", Unit("connections")),
    ("_length", Unit("items")),
    ("_workers", Unit("workers")),
    ("_per_s", Unit("per second")),
]


def unit_for(metric: str, aggregation: str = "last") -> Unit:
    """The unit of a rule's value. `count` and `rate` change what the number is."""
    if aggregation == "count":
        return Unit("samples in the window")
    if aggregation == "rate":
        return Unit("per second")
    for suffix, unit in UNIT_SUFFIXES:
        if metric.endswith(suffix):
            return unit
    return Unit("", None, None)


class RuleError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _value(data: dict, old: Any, name: str, default: Any = None) -> Any:
    if name in data:
        return data[name]
    return getattr(old, name, default) if old is not None else default


def rule_errors(data: dict, old: Any = None) -> dict[str, str]:
    """Field → message for what is wrong with the rule `old` would become with `data`."""
    errors: dict[str, str] = {}
    kind = _value(data, old, "kind", "threshold")
    metric = _value(data, old, "metric", "") or ""
    aggregation = _value(data, old, "aggregation", "last")
    unit = unit_for(metric, aggregation)
    if kind != "threshold":
        return errors
    for field in ("threshold", "wedding_day_threshold"):
        value = _value(data, old, field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[field] = "Must be a number."
            continue
        if not math.isfinite(value):
            errors[field] = "Must be a finite number."
        elif unit.low is not None and value < unit.low:
            errors[field] = f"Must not be below {unit.low:g}: {metric} is in {unit.label}."
        elif unit.high is not None and value > unit.high:
            errors[field] = f"Must not be above {unit.high:g}: {metric} is in {unit.label}."
    return errors


def risky_changes(old: Any, data: dict) -> list[str]:
    """The parts of an edit the wedding-day freeze guards."""
    if old is None:
        return []
    risky = []
    if old.enabled and data.get("enabled") is False:
        risky.append(f"disable the alert rule “{old.name}” ({old.severity})")
    new_severity = data.get("severity", old.severity)
    if SEVERITY_RANK.get(new_severity, 0) < SEVERITY_RANK.get(old.severity, 0):
        risky.append(f"lower severity of “{old.name}” from {old.severity} to {new_severity}")
    return risky


def check_rule_change(
    old: Any, data: dict, *, user: Any = None, override_reason: str | None = None
) -> None:
    """Raise RuleError or FreezeError if `old` (None: a new rule) may not become `data`."""
    errors = rule_errors(data, old)
    if errors:
        raise RuleError(errors)
    risky = risky_changes(old, data)
    if risky:
        check_freeze("; ".join(risky), user=user, override_reason=override_reason)


def check_rule_delete(rule: Any, *, user: Any = None, override_reason: str | None = None) -> None:
    action = f"delete the alert rule “{rule.name}” ({rule.severity})"
    check_freeze(action, user=user, override_reason=override_reason)
