"""Evaluation against the window store and the alert state in the database.

Two entry points: `on_samples` (the receiver of monitoring's samples_ingested: only the rules
whose metric the batch touched, only the series it touched) and `periodic_pass` (time-based
transitions, no-data rules, and the outbox sweep). Every state change happens under a row lock
on the one alert of (rule, label set), so several web processes and workers can evaluate at
once without duplicate alerts or lost transitions.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import transaction
from django.db.models import Count
from redis.exceptions import RedisError

from apps.alerts import caches, escalation, events
from apps.alerts import evaluation as ev
from apps.alerts.models import (
    ACTIVE_STATES,
    Alert,
    AlertRule,
    AlertState,
    AlertTransition,
    fingerprint,
    labels_match,
)
from apps.alerts.weddingday import LiveContext, live_context, threshold_for
from apps.alerts.windows import Sample, store
from apps.core import jobs

log = logging.getLogger(__name__)
_EMPTY = np.empty((0, 2))


@dataclass
class Outcome:
    rule: AlertRule
    fp: str
    labels: dict
    condition: bool
    value: float | None
    threshold: float | None
    wedding_day: bool = False
    note: str = ""


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def to_ts(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt is not None else None


# --- evaluation ------------------------------------------------------------------


class _LazyLive:
    """The live-weddings context, loaded at most once per pass and only if a rule needs it."""

    def __init__(self, now: float) -> None:
        self.now = now
        self._ctx: LiveContext | None = None

    def get(self) -> LiveContext:
        if self._ctx is None:
            self._ctx = live_context(to_dt(self.now))
        return self._ctx


def evaluate_threshold_rules(
    rules: Iterable[AlertRule],
    series: dict[str, dict[str, dict]],
    now: float,
    live: _LazyLive,
    read_many=None,
) -> list[Outcome]:
    """Outcomes of threshold rules over the given series (metric -> fp -> labels).
    `read_many` reads the windows (default: the window store)."""
    by_metric: dict[str, list[AlertRule]] = defaultdict(list)
    for rule in rules:
        by_metric[rule.metric].append(rule)
    wanted: dict[int, list[str]] = {}
    wants: dict[str, tuple[set[str], float]] = {}
    for metric, metric_rules in by_metric.items():
        match = _matcher_index(series.get(metric, {}))
        fps: set[str] = set()
        for rule in metric_rules:
            wanted[rule.pk] = match(rule.matchers)
            fps.update(wanted[rule.pk])
        if fps:
            wants[metric] = (fps, now - max(rule.window_seconds for rule in metric_rules))
    windows = (read_many or store().read_many)(wants) if wants else {}
    outcomes: list[Outcome] = []
    for metric, metric_rules in by_metric.items():
        candidates = series.get(metric, {})
        metric_windows = windows.get(metric, {})
        for rule in metric_rules:
            start = now - rule.window_seconds
            ctx = live.get() if rule.wedding_day_threshold is not None else None
            for fp in wanted[rule.pk]:
                window = metric_windows.get(fp)
                if window is None or not len(window):
                    points = _EMPTY
                else:
                    points = window[np.searchsorted(window[:, 0], start) :]
                labels = candidates[fp]
                threshold, wedding_day = threshold_for(rule, labels, ctx)
                condition, value = ev.evaluate_threshold(
                    points,
                    aggregation=rule.aggregation,
                    comparator=rule.comparator,
                    threshold=threshold,
                )
                outcomes.append(Outcome(rule, fp, labels, condition, value, threshold, wedding_day))
    return outcomes


def _matcher_index(candidates: dict[str, dict]):
    """Which series match a rule's equality matchers, through an inverted index (label=value ->
    series) so 10,000 rules over thousands of series do not compare every pair."""
    index: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fp, labels in candidates.items():
        for pair in labels.items():
            index[pair].add(fp)
    everything = list(candidates)

    def match(matchers: dict) -> list[str]:
        if not matchers:
            return everything
        sets = sorted((index.get(pair, set()) for pair in matchers.items()), key=len)
        found = set(sets[0]).intersection(*sets[1:]) if sets[0] else set()
        return sorted(found)

    return match


def _no_data_facts(metric: str) -> tuple[dict[str, dict], dict[str, float]]:
    """The series of a metric and when each was last heard.

    The windows store (Redis) answers at once but forgets everything when Redis restarts
    empty, and cannot answer while Redis is down; silence judged from it alone would then
    page for series that are reporting. So the monitor's own samples in the database are
    always asked too, and the newer of the two answers wins.
    """
    from apps.monitoring.query import last_seen

    known: dict[str, dict] = {}
    seen: dict[str, float] = {}
    try:
        known.update(store().series(metric))
        seen.update(store().last_seen(metric))
    except RedisError:
        log.warning("no-data rules judged from the database alone: Redis is not answering")
    for labels, ts in last_seen(metric):
        fp = fingerprint(labels)
        known.setdefault(fp, labels)
        if ts is not None and ts > seen.get(fp, float("-inf")):
            seen[fp] = ts
    return known, seen


def evaluate_no_data_rule(rule: AlertRule, now: float) -> list[Outcome]:
    """Each matching series silent for no_data_seconds; with no series at all, the matchers
    themselves stand for the absent series."""
    known, seen = _no_data_facts(rule.metric)
    matching = {fp: labels for fp, labels in known.items() if labels_match(rule.matchers, labels)}
    if not matching:
        matching = {fingerprint(rule.matchers): dict(rule.matchers)}
    since = rule.created_at.timestamp()
    outcomes = []
    for fp, labels in matching.items():
        last = seen.get(fp)
        silent = ev.evaluate_no_data(last, since, now, rule.no_data_seconds)
        value = round(now - (last if last is not None else since), 3)
        outcomes.append(Outcome(rule, fp, labels, silent, value, float(rule.no_data_seconds)))
    return outcomes


# --- entry points ----------------------------------------------------------------


def on_samples(samples: list[Sample], now: float | None = None) -> list[dict]:
    """Receiver of samples_ingested: keep the windows, evaluate the rules the batch touched.

    Redis away: the same evaluation with windows read from PostgreSQL (the record, where the
    batch was just committed), so "Redis down" can still fire while Redis is down."""
    now = time.time() if now is None else now
    try:
        return _on_samples(samples, now)
    except RedisError:
        log.warning("window store unavailable; evaluating from PostgreSQL", exc_info=True)
        return _on_samples_from_database(samples, now)


def _on_samples_from_database(samples: list[Sample], now: float) -> list[dict]:
    from apps.alerts.windows import group_labels

    by_metric = caches.peek_rules() or caches.rules_by_metric(-1)
    touched = group_labels(s for s in samples if s[0] in by_metric)
    threshold = [
        r
        for metric in touched
        for r in by_metric.get(metric, ())
        if r.kind == AlertRule.Kind.THRESHOLD
    ]
    outcomes = evaluate_threshold_rules(
        threshold, touched, now, _LazyLive(now), read_many=_database_windows(touched)
    )
    return apply_outcomes(outcomes, now)


def _database_windows(touched: dict[str, dict[str, dict]]):
    """A read_many over monitoring's samples table, for the series of this batch."""
    from apps.monitoring.models import Sample as StoredSample
    from apps.monitoring.models import series_key

    def read_many(wants):
        out: dict[str, dict] = {}
        for metric, (fps, start) in wants.items():
            keys = {series_key(metric, touched[metric][fp]): fp for fp in fps}
            rows = defaultdict(list)
            for key, ts, value in (
                StoredSample.objects.filter(series__key__in=list(keys), ts__gte=start)
                .order_by("series_id", "ts")
                .values_list("series__key", "ts", "value")
            ):
                rows[keys[key]].append((ts, value))
            out[metric] = {fp: np.array(rows.get(fp, []), dtype=float).reshape(-1, 2) for fp in fps}
        return out

    return read_many


def _on_samples(samples: list[Sample], now: float) -> list[dict]:
    # Windows are kept only for metrics some rule reads: a batch of unwatched metrics costs one
    # small round trip. A rule created since the cache was loaded is caught just below.
    by_metric = caches.peek_rules()
    if by_metric is None:
        by_metric = caches.rules_by_metric(store().versions()[0])
    watched = [s for s in samples if s[0] in by_metric]
    touched, (rules_version, alerts_version) = store().append_and_versions(
        watched, caches.no_data_metrics(by_metric)
    )
    fresh = caches.rules_by_metric(rules_version)
    if fresh is not by_metric:
        missed = [s for s in samples if s[0] in fresh and s[0] not in by_metric]
        if missed:
            touched.update(store().append(missed, caches.no_data_metrics(fresh)))
        by_metric = fresh
    rules = [rule for metric in touched for rule in by_metric.get(metric, ())]
    if not rules:
        return []
    threshold = [r for r in rules if r.kind == AlertRule.Kind.THRESHOLD]
    outcomes = evaluate_threshold_rules(threshold, touched, now, _LazyLive(now))
    for rule in rules:
        if rule.kind == AlertRule.Kind.NO_DATA:
            # The series just spoke: whatever matched is not silent.
            for fp, labels in touched[rule.metric].items():
                if labels_match(rule.matchers, labels):
                    outcomes.append(Outcome(rule, fp, labels, False, 0.0, rule.no_data_seconds))
            absent = fingerprint(rule.matchers)
            if absent not in touched[rule.metric]:
                outcomes.append(Outcome(rule, absent, dict(rule.matchers), False, 0.0, None))
    # The common case, all quiet: nothing true and nothing active to clear, no database.
    active = caches.active_alerts(alerts_version)
    outcomes = [o for o in outcomes if o.condition or (o.rule.pk, o.fp) in active]
    return apply_outcomes(outcomes, now, known_active=active)


def periodic_pass(now: float | None = None) -> list[dict]:
    """Time-based transitions (for, keep_firing_for), no-data rules, disabled rules."""
    now = time.time() if now is None else now
    live = _LazyLive(now)
    outcomes: list[Outcome] = []
    active = list(Alert.objects.filter(state__in=ACTIVE_STATES).select_related("rule"))
    # Re-judge every active threshold alert at `now` (its window may have emptied).
    by_rule: dict[int, dict[str, dict]] = defaultdict(dict)
    rules: dict[int, AlertRule] = {}
    for alert in active:
        if not alert.rule.enabled:
            outcomes.append(
                Outcome(
                    alert.rule,
                    alert.fingerprint,
                    alert.labels,
                    False,
                    alert.value,
                    None,
                    note="rule disabled",
                )
            )
        elif alert.rule.kind == AlertRule.Kind.THRESHOLD:
            by_rule[alert.rule_id][alert.fingerprint] = alert.labels
            rules[alert.rule_id] = alert.rule
    for rule_id, series in by_rule.items():
        outcomes += evaluate_threshold_rules(
            [rules[rule_id]], {rules[rule_id].metric: series}, now, live
        )
    covered = {(o.rule.pk, o.fp) for o in outcomes}
    for rule in AlertRule.objects.filter(enabled=True, kind=AlertRule.Kind.NO_DATA):
        for outcome in evaluate_no_data_rule(rule, now):
            outcomes.append(outcome)
            covered.add((rule.pk, outcome.fp))
    # An active no-data alert whose series is no longer among the candidates has recovered.
    for alert in active:
        if alert.rule.kind == AlertRule.Kind.EXTERNAL:
            continue  # resolved by its sender or its endsAt (apps.alerts.alertmanager)
        if alert.rule.enabled and (alert.rule_id, alert.fingerprint) not in covered:
            outcomes.append(Outcome(alert.rule, alert.fingerprint, alert.labels, False, None, None))
    events = apply_outcomes(outcomes, now)
    update_gauge()
    return events


# --- applying outcomes -------------------------------------------------------------


def apply_outcomes(
    outcomes: list[Outcome], now: float, known_active: frozenset | None = None
) -> list[dict]:
    """Persist what changed. Returns the pushed alert events (for callers and tests).

    With `known_active` (the ingest path's cache), rows not in it are taken as inactive without
    reading them: any transition re-decides under the row lock on the real state anyway."""
    if not outcomes:
        return []
    lookup = outcomes
    if known_active is not None:
        lookup = [o for o in outcomes if (o.rule.pk, o.fp) in known_active]
    existing = (
        {
            (a.rule_id, a.fingerprint): a
            for a in Alert.objects.filter(
                rule_id__in={o.rule.pk for o in lookup}, fingerprint__in={o.fp for o in lookup}
            )
        }
        if lookup
        else {}
    )
    now_dt = to_dt(now)
    events: list[dict] = []
    for o in outcomes:
        alert = existing.get((o.rule.pk, o.fp))
        state = alert.state if alert else AlertState.INACTIVE
        step = _step(alert, state, o, now)
        if step.changed_from(state):
            event = _transition(o, now, now_dt)
            if event:
                events.append(event)
        elif alert and state in ACTIVE_STATES and o.value is not None:
            # No change of state: refresh the value (and when it was last true) in place.
            fields = {"value": o.value, "threshold": o.threshold, "last_evaluated_at": now_dt}
            if o.condition and state == AlertState.FIRING:
                fields["last_true_at"] = now_dt
            Alert.objects.filter(pk=alert.pk, state=state, episode=alert.episode).update(**fields)
    if events:
        # The gauge is refreshed by the periodic pass: keep the ingest request short.
        caches.bump_later("alerts")
    return events


def _step(alert: Alert | None, state: str, o: Outcome, now: float) -> ev.Step:
    rule = o.rule
    return ev.next_state(
        state,
        o.condition,
        now,
        started_at=to_ts(alert.started_at) if alert else None,
        last_true_at=to_ts(alert.last_true_at) if alert else None,
        for_seconds=rule.for_seconds,
        keep_firing_for_seconds=rule.keep_firing_for_seconds,
    )


def _locked_alert(rule: AlertRule, fp: str, labels: dict) -> Alert:
    """The alert row of (rule, fp), locked; created if missing. INSERT … ON CONFLICT DO NOTHING
    then SELECT … FOR UPDATE: a concurrent creator's row is the one both lock."""
    alert = Alert.objects.select_for_update().filter(rule=rule, fingerprint=fp).first()
    if alert is not None:
        return alert
    Alert.objects.bulk_create(
        [Alert(rule=rule, fingerprint=fp, labels=labels)], ignore_conflicts=True
    )
    return Alert.objects.select_for_update().get(rule=rule, fingerprint=fp)


def _transition(o: Outcome, now: float, now_dt: datetime) -> dict | None:
    with transaction.atomic():
        alert = _locked_alert(o.rule, o.fp, o.labels)
        alert.rule = o.rule
        old = alert.state
        step = _step(alert, old, o, now)  # again, under the lock: another process may have won
        if not step.changed_from(old):
            if old in ACTIVE_STATES and o.value is not None:
                alert.value, alert.threshold, alert.last_evaluated_at = o.value, o.threshold, now_dt
                if o.condition and old == AlertState.FIRING:
                    alert.last_true_at = now_dt
                alert.save(
                    update_fields=[
                        "value",
                        "threshold",
                        "last_evaluated_at",
                        "last_true_at",
                        "updated_at",
                    ]
                )
            return None
        new = step.state
        if old in (AlertState.INACTIVE, AlertState.RESOLVED):
            alert.episode += 1
            alert.started_at = now_dt
            alert.fired_at = alert.resolved_at = None
            alert.acknowledged_at = alert.acknowledged_by = None
            alert.ack_comment = ""
            alert.escalation = None
            alert.escalation_next_level = alert.escalation_next_repeat = None
            alert.escalation_next_at = None
        alert.state = new
        alert.labels = o.labels
        alert.value = o.value
        alert.threshold = o.threshold
        alert.wedding_day = o.wedding_day
        alert.last_evaluated_at = now_dt
        if o.condition:
            alert.last_true_at = now_dt
        if new == AlertState.FIRING:
            alert.fired_at = now_dt
            escalation.begin(alert, now_dt)
        if new in (AlertState.RESOLVED, AlertState.INACTIVE):
            alert.escalation_next_at = None
            alert.escalation_next_level = alert.escalation_next_repeat = None
            if new == AlertState.RESOLVED:
                alert.resolved_at = now_dt
        alert.save()
        caches.note_state(alert.rule_id, alert.fingerprint, new)
        note = "; ".join(x for x in (step.note, o.note) if x)
        if o.wedding_day and new in ACTIVE_STATES and o.threshold is not None:
            note += f" (wedding-day threshold {o.threshold:g})"
        AlertTransition.objects.create(
            alert=alert,
            episode=alert.episode,
            from_state=old,
            to_state=new,
            at=now_dt,
            value=o.value,
            note=note[:300],
        )
        event = events.announce_alert(alert)
        alert_id, episode = alert.pk, alert.episode
        if new == AlertState.FIRING:
            transaction.on_commit(lambda: escalation.schedule_next(alert_id, episode))
            if o.rule.emergency_type:
                transaction.on_commit(lambda: _emergency_later(alert_id, episode))
        elif new == AlertState.RESOLVED and old == AlertState.FIRING:
            transaction.on_commit(lambda: escalation.resolved_later(alert_id, episode))
    return event


def _emergency_later(alert_id: int, episode: int) -> None:
    jobs.enqueue_now("alerts.emergency_from_alert", alert_id, episode)


def update_gauge() -> None:
    from apps.core.metrics import alerts_active

    counts = {
        (row["state"], row["rule__severity"]): row["n"]
        for row in Alert.objects.values("state", "rule__severity").annotate(n=Count("pk"))
    }
    for state in AlertState.values:
        for severity in ("info", "warning", "critical"):
            alerts_active.labels(state=state, severity=severity).set(
                counts.get((state, severity), 0)
            )
