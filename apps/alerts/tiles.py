"""One number, one meaning: dashboard tiles that show what an alert rule evaluates.

A metric tile bound to a rule (widget option `rule`: the rule's name) shows the rule's own
value (its aggregation over its window, of the series its matchers pick) with the rule's
thresholds as its bands, and says so in words. The Services tile gains the state of any
firing alert on a service's metrics, so it never reads "OK" beside a firing alert.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from apps.alerts import evaluation as ev
from apps.alerts.models import Alert, AlertRule, AlertState
from apps.alerts.weddingday import live_context, threshold_for

AGG_WORDS = ev.AGG_WORDS
MAX_SAMPLES = 5000


def _window_words(seconds: int) -> str:
    return ev.window_words(seconds)


def measure_words(rule: AlertRule) -> str:
    """What an alert's value is, e.g. "average over 5 min" (shown beside the number)."""
    return ev.measure_words(rule.aggregation, rule.window_seconds)


def bands(rule: AlertRule) -> dict:
    """The rule's thresholds as a tile's bands: the wedding-day threshold (the stricter one)
    warns, the everyday one is critical; a rule with one threshold has one band."""
    direction = "below" if rule.comparator in ("lt", "lte") else "above"
    if rule.wedding_day_threshold is None:
        return {"warn": rule.threshold, "crit": rule.threshold, "direction": direction}
    low, high = sorted((rule.threshold, rule.wedding_day_threshold))
    if direction == "above":
        return {"warn": low, "crit": high, "direction": direction}
    return {"warn": high, "crit": low, "direction": direction}


def _samples(rule: AlertRule, start: float) -> tuple[dict, list[list[float]]]:
    """(labels, [[ts, value], ...]) of the freshest series the rule's matchers pick."""
    from apps.monitoring.models import Sample
    from apps.monitoring.query import matching_series

    best: tuple[dict, list[list[float]]] = ({}, [])
    newest = float("-inf")
    for series in matching_series(rule.metric, rule.matchers or {}):
        rows = list(
            Sample.objects.filter(series=series, ts__gte=start)
            .order_by("-ts")
            .values_list("ts", "value")[:MAX_SAMPLES]
        )
        if rows and rows[0][0] > newest:
            newest = rows[0][0]
            best = (series.labels, [[ts, value] for ts, value in reversed(rows)])
    return best


def rule_tile(rule_name: str, now: float | None = None) -> dict | None:
    """What a tile bound to `rule_name` shows: the rule's value now, its window of samples
    (so the page keeps it up to date from live samples), bands and a caption."""
    rule = AlertRule.objects.filter(name=rule_name, kind=AlertRule.Kind.THRESHOLD).first()
    if rule is None:
        return None
    now = time.time() if now is None else now
    labels, points = _samples(rule, now - rule.window_seconds)
    ctx = live_context(datetime.fromtimestamp(now, tz=UTC))
    threshold, wedding_day = threshold_for(rule, labels, ctx)
    value = ev.aggregate([(p[0], p[1]) for p in points], rule.aggregation)
    symbol = ev.SYMBOLS.get(rule.comparator, rule.comparator)
    when = " (wedding-day threshold)" if wedding_day else ""
    caption = (
        f"{AGG_WORDS.get(rule.aggregation, rule.aggregation)} over "
        f"{_window_words(rule.window_seconds)}, as rule “{rule.name}” evaluates it: "
        f"fires {symbol} {threshold:g}{when}"
    )
    return {
        "id": rule.pk,
        "name": rule.name,
        "aggregation": rule.aggregation,
        "window_seconds": rule.window_seconds,
        "comparator": rule.comparator,
        "threshold": threshold,
        "wedding_day": wedding_day,
        "bands": bands(rule),
        "labels": labels,
        "samples": points,
        "value": value,
        "caption": caption,
        "url": f"/alerts/?rule={rule.pk}",
    }


# Which metrics each Services component reads (figures.status_components' names).
COMPONENT_METRICS = {
    "Gateway": ("wedsync_gateway_",),
    "Cache": ("wedsync_cache_",),
    "Redis": ("wedsync_redis_",),
    "PostgreSQL": ("wedsync_db_",),
    "Celery workers": ("wedsync_celery_",),
    "Circuit breakers": ("wedsync_gateway_breaker_",),
}
RANK = {"unknown": 0, "ok": 1, "warn": 2, "crit": 3}


def with_firing_alerts(components: list[dict]) -> list[dict]:
    """The Services components, each raised to the state of a firing alert on its metrics,
    with the alert's own number and measure named."""
    firing = list(Alert.objects.filter(state=AlertState.FIRING).select_related("rule")[:200])
    if not firing:
        return components
    out = []
    for component in components:
        prefixes = COMPONENT_METRICS.get(component["component"], ())
        hits = [a for a in firing if a.rule.metric.startswith(prefixes)] if prefixes else []
        if not hits:
            out.append(component)
            continue
        worst = max(hits, key=lambda a: a.rule.severity == "critical")
        state = "crit" if worst.rule.severity == "critical" else "warn"
        if RANK[state] < RANK.get(component["state"], 0):
            state = component["state"]
        value = "—" if worst.value is None else f"{worst.value:g}"
        measure = measure_words(worst.rule)
        detail = (
            f"{component['detail']} (latest sample) · alert “{worst.rule.name}” FIRING: "
            f"{measure} {value}"
        )
        out.append({**component, "state": state, "detail": detail, "alert": worst.pk})
    return out
