"""Pure rule evaluation: aggregate a window, compare, step the state machine.

No database, no Redis: everything here is a function of its arguments, so the semantics
(Prometheus' pending → firing after `for`, `keep_firing_for`) are tested with controlled time.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INACTIVE, PENDING, FIRING, RESOLVED = "inactive", "pending", "firing", "resolved"

COMPARATORS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
AGG_WORDS = {
    "last": "last sample",
    "avg": "average",
    "min": "minimum",
    "max": "maximum",
    "p95": "95th percentile",
    "rate": "per-second rate",
    "count": "sample count",
}


def window_words(seconds: int) -> str:
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def measure_words(aggregation: str, window_seconds: int) -> str:
    """What a rule's value is, e.g. "average over 5 min" (shown beside the number)."""
    return f"{AGG_WORDS.get(aggregation, aggregation)} over {window_words(window_seconds)}"


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def counter_rate(points: Sequence[tuple[float, float]]) -> float | None:
    """Per-second increase of a counter over the window, counting through resets."""
    if len(points) < 2:
        return None
    increase = 0.0
    prev = points[0][1]
    for _, value in points[1:]:
        increase += value - prev if value >= prev else value  # a reset restarts from 0
        prev = value
    span = points[-1][0] - points[0][0]
    return increase / span if span > 0 else None


def aggregate_array(window: np.ndarray, how: str) -> float | None:
    """`aggregate` for a float64 (n, 2) array of (ts, value) rows: the engine's fast path."""
    n = len(window)
    if how == "count":
        return float(n)
    if not n:
        return None
    values = window[:, 1]
    if how == "last":
        return float(values[-1])
    if how == "avg":
        return float(values.mean())
    if how == "min":
        return float(values.min())
    if how == "max":
        return float(values.max())
    if how == "p95":
        return float(np.percentile(values, 95))
    if how == "rate":
        if n < 2:
            return None
        steps = np.diff(values)
        # A drop is a counter reset: the counter restarted from 0 and reached the new value.
        increase = float(np.where(steps >= 0, steps, values[1:]).sum())
        span = float(window[-1, 0] - window[0, 0])
        return increase / span if span > 0 else None
    raise ValueError(f"unknown aggregation {how!r}")


def aggregate(points: Sequence[tuple[float, float]], how: str) -> float | None:
    """The window's value; None when the window holds nothing to judge."""
    if isinstance(points, np.ndarray):
        return aggregate_array(points, how)
    if how == "count":
        return float(len(points))
    if not points:
        return None
    values = [v for _, v in points]
    if how == "last":
        return values[-1]
    if how == "avg":
        return sum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "p95":
        return percentile(values, 0.95)
    if how == "rate":
        return counter_rate(points)
    raise ValueError(f"unknown aggregation {how!r}")


def breaches(value: float | None, comparator: str, threshold: float) -> bool:
    return value is not None and COMPARATORS[comparator](value, threshold)


@dataclass(frozen=True)
class Step:
    state: str
    note: str = ""

    def changed_from(self, state: str) -> bool:
        return self.state != state


def next_state(
    state: str,
    condition: bool,
    now: float,
    *,
    started_at: float | None,
    last_true_at: float | None,
    for_seconds: float,
    keep_firing_for_seconds: float,
) -> Step:
    """One evaluation of one alert. Times are unix seconds.

    inactive/resolved --true--> pending (or firing at once when for_seconds is 0)
    pending --true for for_seconds--> firing;  pending --false--> inactive
    firing --false, and true last more than keep_firing_for_seconds ago--> resolved
    """
    if state in (INACTIVE, RESOLVED):
        if not condition:
            return Step(state)
        if for_seconds <= 0:
            return Step(FIRING, "condition met (for 0 s)")
        return Step(PENDING, f"condition met; firing if it holds {for_seconds:g} s")
    if state == PENDING:
        if not condition:
            return Step(INACTIVE, "condition cleared before for elapsed")
        if started_at is not None and now - started_at >= for_seconds:
            return Step(FIRING, f"condition held {for_seconds:g} s")
        return Step(PENDING)
    if state == FIRING:
        if condition:
            return Step(FIRING)
        if keep_firing_for_seconds > 0 and last_true_at is not None:
            if now - last_true_at < keep_firing_for_seconds:
                return Step(FIRING)
            return Step(RESOLVED, f"condition clear for {keep_firing_for_seconds:g} s")
        return Step(RESOLVED, "condition cleared")
    raise ValueError(f"unknown state {state!r}")


def evaluate_threshold(
    points: Sequence[tuple[float, float]],
    *,
    aggregation: str,
    comparator: str,
    threshold: float,
) -> tuple[bool, float | None]:
    value = aggregate(points, aggregation)
    return breaches(value, comparator, threshold), value


def evaluate_no_data(last_seen: float | None, since: float, now: float, seconds: float) -> bool:
    """True when the series has been silent for `seconds` (a never-seen series counts from
    `since`, the rule's creation, so a fresh rule does not fire at once)."""
    reference = last_seen if last_seen is not None else since
    return now - reference >= seconds
