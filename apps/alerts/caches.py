"""Per-process caches that keep PostgreSQL off the ingest path when nothing changes.

Both are keyed by a version counter in the window store (Redis in the full stack, read in the
same round trip as the window append): any process that changes a rule or an alert's state
bumps the counter after commit, and every process reloads on its next batch. The database
stays the record; the periodic pass always reads it, so a batch judged against a cache that
was a moment stale is corrected within one pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from apps.alerts.models import (
    ACTIVE_STATES,
    Alert,
    AlertRule,
    EscalationLevel,
    EscalationPolicy,
    NotificationChannel,
)

log = logging.getLogger(__name__)

# Reload anyway after this long: a Redis restart resets the counters.
MAX_AGE_SECONDS = 30.0

_lock = threading.Lock()
_rules: tuple[int, float, dict[str, list[AlertRule]], frozenset[str]] | None = None
_active: tuple[int, float, frozenset[tuple[int, str]]] | None = None


def _fresh(cached, version: int) -> bool:
    return (
        cached is not None
        and cached[0] == version
        and time.monotonic() - cached[1] < MAX_AGE_SECONDS
    )


def rules_by_metric(version: int) -> dict[str, list[AlertRule]]:
    global _rules
    cached = _rules
    if _fresh(cached, version):
        return cached[2]
    by_metric: dict[str, list[AlertRule]] = defaultdict(list)
    rules = AlertRule.objects.filter(enabled=True).select_related("escalation_policy")
    for rule in rules.prefetch_related("escalation_policy__levels__channels"):
        by_metric[rule.metric].append(rule)
    loaded = dict(by_metric)
    with _lock:
        _rules = (version, time.monotonic(), loaded, _no_data_of(loaded))
    return loaded


def peek_rules() -> dict[str, list[AlertRule]] | None:
    """The rules last loaded, if recent, whatever the version (to filter a batch before the
    round trip that tells the current version)."""
    cached = _rules
    if cached is None or time.monotonic() - cached[1] >= MAX_AGE_SECONDS:
        return None
    return cached[2]


def no_data_metrics(by_metric: dict[str, list[AlertRule]]) -> frozenset[str]:
    """Metrics with a no-data rule (their series index is kept); computed once per rule set."""
    cached = _rules
    if cached is not None and cached[2] is by_metric:
        return cached[3]
    return _no_data_of(by_metric)


def _no_data_of(by_metric: dict[str, list[AlertRule]]) -> frozenset[str]:
    return frozenset(
        metric
        for metric, rules in by_metric.items()
        if any(rule.kind == AlertRule.Kind.NO_DATA for rule in rules)
    )


def active_alerts(version: int) -> frozenset[tuple[int, str]]:
    global _active
    cached = _active
    if _fresh(cached, version):
        return cached[2]
    keys = frozenset(
        Alert.objects.filter(state__in=ACTIVE_STATES).values_list("rule_id", "fingerprint")
    )
    with _lock:
        _active = (version, time.monotonic(), keys)
    return keys


def note_state(rule_id: int, fp: str, state: str) -> None:
    """This process changed an alert: its own cache follows at once (the others on the bump)."""
    global _active
    with _lock:
        if _active is None:
            return
        version, loaded, keys = _active
        key = (rule_id, fp)
        keys = keys | {key} if state in ACTIVE_STATES else keys - {key}
        _active = (version, loaded, keys)


def bump_later(name: str) -> None:
    from apps.alerts.windows import store

    def bump() -> None:
        try:
            store().bump(name)
        except Exception:  # Redis away: other processes catch up within MAX_AGE_SECONDS
            log.warning("could not bump the %s version", name, exc_info=True)

    transaction.on_commit(bump)


def forget() -> None:
    """Drop both caches (tests)."""
    global _rules, _active
    with _lock:
        _rules = _active = None


def _rule_changed(sender, **_: object) -> None:
    bump_later("rules")


# The cached rules carry their escalation policies (snapshotted at firing without a query).
for _model in (AlertRule, EscalationPolicy, EscalationLevel, NotificationChannel):
    post_save.connect(_rule_changed, sender=_model, dispatch_uid=f"alerts.saved.{_model.__name__}")
    post_delete.connect(
        _rule_changed, sender=_model, dispatch_uid=f"alerts.deleted.{_model.__name__}"
    )
m2m_changed.connect(
    _rule_changed, sender=EscalationLevel.channels.through, dispatch_uid="alerts.level_channels"
)
