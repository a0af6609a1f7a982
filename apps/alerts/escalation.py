"""Escalation: the policy is snapshotted when the alert fires; each step is a Celery task with a
countdown; acknowledgement stops it; resolution sends a resolved notice to whoever was told.

A step is claimed through the alert row (its `escalation_next_*` must name this very step) and
through the delivery log's unique keys, so a redelivered or duplicated step sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.alerts import conf, notify
from apps.alerts.events import alert_event, announce_alert
from apps.alerts.models import (
    Alert,
    AlertState,
    AlertTransition,
    Notification,
    NotificationChannel,
)
from apps.alerts.suppression import suppressed_by
from apps.core import jobs

log = logging.getLogger(__name__)

SUPPRESSED_RECHECK_SECONDS = 15


def begin(alert: Alert, now: datetime) -> None:
    """Snapshot the rule's policy into the alert (caller saves, inside its transaction)."""
    policy = alert.rule.escalation_policy
    if policy is None:
        return
    snapshot = policy.snapshot()
    if not snapshot["levels"]:
        return
    alert.escalation = snapshot
    alert.escalation_next_level = 0
    alert.escalation_next_repeat = 0
    alert.escalation_next_at = now + timedelta(seconds=snapshot["levels"][0]["delay_seconds"])


def schedule_next(alert_id: int, episode: int) -> None:
    """Enqueue the alert's next step with its countdown (after commit)."""
    alert = (
        Alert.objects.filter(pk=alert_id)
        .values("escalation_next_level", "escalation_next_repeat", "escalation_next_at")
        .first()
    )
    if not alert or alert["escalation_next_at"] is None:
        return
    countdown = max(0.0, (alert["escalation_next_at"] - timezone.now()).total_seconds())
    if settings.CELERY_TASK_ALWAYS_EAGER and countdown > 0:
        return  # embedded: an eager task cannot wait; the periodic sweep runs it when due
    step = (alert_id, episode, alert["escalation_next_level"], alert["escalation_next_repeat"])
    if not jobs.enqueue_now("alerts.escalation_step", *step, countdown=countdown):
        if countdown == 0:  # broker away: a due step runs right here, later ones at the sweep
            run_step(*step)


def step_words(level: int, repeat: int) -> str:
    """What a step is, in words: level 0 is the first notice, each further level an
    escalation (the first escalation is level 1), repeats are reminders."""
    what = "first notice" if level == 0 else f"escalation {level}"
    if repeat:
        what += f", reminder {repeat}"
    return what[0].upper() + what[1:]


def step_kind(level: int, repeat: int) -> str:
    """The notification's event: firing, escalated (a further level's first notice) or
    repeat (a reminder within a level)."""
    if repeat:
        return Notification.Kind.REPEAT
    return Notification.Kind.FIRING if level == 0 else Notification.Kind.ESCALATED


def _message(alert: Alert, kind: str, level: int, repeat: int) -> tuple[str, dict]:
    rule = alert.rule
    head = "RESOLVED" if kind == "resolved" else rule.severity.upper()
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())) or "platform"
    subject = f"[{head}] {rule.name} ({labels})"
    lines = [subject]
    if kind != "resolved":
        value = "—" if alert.value is None else f"{alert.value:g}"
        threshold = "—" if alert.threshold is None else f"{alert.threshold:g}"
        lines.append(f"{rule.metric} {rule.aggregation} = {value} ({rule.comparator} {threshold})")
        lines.append(step_words(level, repeat) + ".")
    if rule.runbook_url:
        lines.append(f"Runbook: {rule.runbook_url}")
    lines.append(f"{conf.PUBLIC_URL}/alerts/#alert-{alert.pk}")
    text = "\n".join(lines)
    payload = {
        "event": kind,
        "alert": alert_event(alert),
        "level": level,
        "repeat": repeat,
        "text": text,
    }
    return subject, payload


def _claim_for_channels(
    alert: Alert, channel_ids: list[int], key_prefix: str, kind: str, subject: str, payload: dict
) -> list[int]:
    claimed = []
    for channel in NotificationChannel.objects.filter(pk__in=channel_ids, enabled=True):
        n = notify.claim(
            f"{key_prefix}:c{channel.pk}",
            kind=kind,
            channel_kind=channel.kind,
            channel=channel,
            target=channel.target,
            secret=channel.secret,
            alert=alert,
            subject=subject[:300],
            payload=payload,
        )
        if n is not None:
            claimed.append(n.pk)
    return claimed


def run_step(alert_id: int, episode: int, level: int, repeat: int) -> str:
    """One escalation step. Returns what happened (for logs and tests)."""
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("rule").filter(pk=alert_id).first()
        if alert is None or alert.episode != episode:
            return "stale episode"
        if alert.state != AlertState.FIRING:
            return f"alert is {alert.state}"
        if alert.acknowledged_at is not None:
            return "acknowledged"
        if (alert.escalation_next_level, alert.escalation_next_repeat) != (level, repeat):
            return "step already done"
        if alert.escalation_next_at and alert.escalation_next_at > now + timedelta(seconds=1):
            return "not due yet"
        levels = alert.escalation["levels"]
        reason = suppressed_by(alert.rule, alert.labels, now)
        if reason:
            # Muted: try again later; the notice goes out if the alert outlives the silence.
            alert.escalation_next_at = now + timedelta(seconds=SUPPRESSED_RECHECK_SECONDS)
            if not alert.escalation.get("suppressed"):
                alert.escalation["suppressed"] = True
                AlertTransition.objects.create(
                    alert=alert,
                    episode=episode,
                    from_state=alert.state,
                    to_state=alert.state,
                    at=now,
                    value=alert.value,
                    note=f"notifications suppressed by {reason}"[:300],
                )
            alert.save(update_fields=["escalation", "escalation_next_at", "updated_at"])
            transaction.on_commit(lambda: schedule_next(alert_id, episode))
            return "suppressed"
        step = levels[level]
        kind = step_kind(level, repeat)
        subject, payload = _message(alert, kind, level, repeat)
        claimed = _claim_for_channels(
            alert,
            step["channels"],
            f"a{alert.pk}:e{episode}:l{level}:r{repeat}",
            kind,
            subject,
            payload,
        )
        if repeat < step["repeat_count"]:
            nxt = (level, repeat + 1, step["repeat_interval_seconds"])
        elif level + 1 < len(levels):
            nxt = (level + 1, 0, levels[level + 1]["delay_seconds"])
        else:
            nxt = None
        if nxt:
            alert.escalation_next_level, alert.escalation_next_repeat = nxt[0], nxt[1]
            alert.escalation_next_at = now + timedelta(seconds=nxt[2])
        else:
            alert.escalation_next_level = alert.escalation_next_repeat = None
            alert.escalation_next_at = None
        alert.escalation["suppressed"] = False
        alert.save(
            update_fields=[
                "escalation",
                "escalation_next_level",
                "escalation_next_repeat",
                "escalation_next_at",
                "updated_at",
            ]
        )
        AlertTransition.objects.create(
            alert=alert,
            episode=episode,
            from_state=alert.state,
            to_state=alert.state,
            at=now,
            value=alert.value,
            note=f"{step_words(level, repeat)}: {len(claimed)} notification(s)",
        )
        # First attempt right here in the worker (one Celery hop less); retries are tasks.
        transaction.on_commit(lambda: notify.deliver_now(claimed))
        if nxt:
            transaction.on_commit(lambda: schedule_next(alert_id, episode))
    return "sent"


def resolved_later(alert_id: int, episode: int) -> None:
    jobs.enqueue_now("alerts.resolved_notice", alert_id, episode)


def send_resolved(alert_id: int, episode: int) -> int:
    """Tell every channel that was notified during the episode that it is over."""
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None or alert.episode != episode:
        return 0
    told = set(
        alert.notifications.filter(key__startswith=f"a{alert.pk}:e{episode}:l")
        .exclude(status="skipped")
        .values_list("channel_id", flat=True)
    ) - {None}
    if not told:
        return 0
    subject, payload = _message(alert, "resolved", 0, 0)
    with transaction.atomic():
        claimed = _claim_for_channels(
            alert, sorted(told), f"a{alert.pk}:e{episode}:resolved", "resolved", subject, payload
        )
        transaction.on_commit(lambda: notify.deliver_later(claimed))
    return len(claimed)


def sweep_overdue(now: datetime | None = None) -> int:
    """Re-enqueue escalation steps whose task went missing (broker loss, worker crash)."""
    now = now or timezone.now()
    # Embedded (eager tasks): the sweep is the scheduler, so no grace.
    grace = now - timedelta(
        seconds=0 if settings.CELERY_TASK_ALWAYS_EAGER else conf.OUTBOX_GRACE_SECONDS
    )
    overdue = Alert.objects.filter(
        state=AlertState.FIRING, acknowledged_at__isnull=True, escalation_next_at__lt=grace
    ).values_list("pk", "episode")
    for alert_id, episode in overdue:
        schedule_next(alert_id, episode)
    return len(overdue)


# --- acknowledgement -----------------------------------------------------------------


class AckError(Exception):
    pass


def _record_ack_change(alert: Alert, user, now, note: str) -> None:
    """The alert's history line for an (un)acknowledgement (the state does not change),
    and the ops pages' push once the caller's transaction commits."""
    AlertTransition.objects.create(
        alert=alert,
        episode=alert.episode,
        from_state=alert.state,
        to_state=alert.state,
        at=now,
        value=alert.value,
        actor=user,
        note=note[:300],
    )
    announce_alert(alert)


def acknowledge(alert_id: int, user, comment: str = "") -> Alert:
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("rule").get(pk=alert_id)
        if alert.state not in (AlertState.PENDING, AlertState.FIRING):
            raise AckError(
                f"Only pending or firing alerts can be acknowledged; this one is {alert.state}."
            )
        if alert.acknowledged_at is not None:
            raise AckError(
                f"Already acknowledged by {alert.acknowledged_by} "
                f"at {alert.acknowledged_at:%H:%M:%S}."
            )
        alert.acknowledged_at, alert.acknowledged_by, alert.ack_comment = now, user, comment
        alert.save(
            update_fields=["acknowledged_at", "acknowledged_by", "ack_comment", "updated_at"]
        )
        _record_ack_change(
            alert, user, now, f"acknowledged: {comment}" if comment else "acknowledged"
        )
    return alert


def unacknowledge(alert_id: int, user, comment: str = "") -> Alert:
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("rule").get(pk=alert_id)
        if alert.acknowledged_at is None:
            raise AckError("This alert is not acknowledged.")
        alert.acknowledged_at = alert.acknowledged_by = None
        alert.ack_comment = ""
        if alert.escalation_next_at is not None and alert.escalation_next_at < now:
            alert.escalation_next_at = now  # resume where escalation stopped
        alert.save()
        note = "acknowledgement withdrawn" + (f": {comment}" if comment else "")
        _record_ack_change(alert, user, now, note)
        alert_id, episode = alert.pk, alert.episode
        if alert.state == AlertState.FIRING:
            transaction.on_commit(lambda: schedule_next(alert_id, episode))
    return alert
