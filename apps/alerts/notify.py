"""Notifications: claim a delivery-log row, then send it (apps.alerts.notifiers), retrying
what may pass later with backoff.

A row's unique `key` is inserted before anything is sent, so a redelivered task that would
send the same notice finds the row and sends nothing. Sending itself is claimed with a
conditional UPDATE (pending/retrying → sending), so two workers never send one row twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.alerts import conf, notifiers
from apps.alerts.models import Notification
from apps.core import jobs

log = logging.getLogger(__name__)


def claim(key: str, **fields) -> Notification | None:
    """Insert the log row for `key`; None if it already exists (sent or being sent)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(key=key[:120], **fields)
    except IntegrityError:
        return None


def deliver(notification_id: int) -> str:
    """Try to send one notification. Returns its status afterwards ("sent", "retrying",
    "failed", or the status that made us leave it alone)."""
    now = timezone.now()
    stale = now - timedelta(seconds=conf.STALE_SENDING_SECONDS)
    claimed = Notification.objects.filter(
        Q(status__in=["pending", "retrying"]) | Q(status="sending", claimed_at__lt=stale),
        pk=notification_id,
    ).update(status="sending", attempts=F("attempts") + 1, claimed_at=now)
    n = Notification.objects.get(pk=notification_id)
    if not claimed:
        return n.status
    try:
        notifiers.send(n)
    except Exception as exc:  # any failure is logged on the row, never lost
        error = str(exc)[:2000] or type(exc).__name__
        permanent = isinstance(exc, notifiers.PermanentFailure)
        if permanent or n.attempts >= conf.WEBHOOK_MAX_ATTEMPTS:
            Notification.objects.filter(pk=n.pk).update(status="failed", error=error)
            log.warning("notification %s failed for good: %s", n.key, error)
            return "failed"
        backoff = conf.WEBHOOK_BACKOFF_SECONDS * 2 ** (n.attempts - 1)
        Notification.objects.filter(pk=n.pk).update(
            status="retrying", error=error, next_attempt_at=now + timedelta(seconds=backoff)
        )
        _enqueue(n.pk, countdown=backoff)
        return "retrying"
    Notification.objects.filter(pk=n.pk).update(status="sent", sent_at=timezone.now(), error="")
    return "sent"


def _enqueue(notification_id: int, countdown: float = 0) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER and countdown:
        return  # embedded: the periodic sweep retries it when next_attempt_at comes
    # broker away: the periodic sweep picks the row up later
    jobs.enqueue_now("alerts.deliver_notification", notification_id, countdown=countdown)


def deliver_now(ids: list[int]) -> None:
    for pk in ids:
        try:
            deliver(pk)
        except Exception:  # the row stays pending: the periodic sweep tries again
            log.exception("delivery of notification %s failed unexpectedly", pk)


def deliver_later(ids: list[int]) -> None:
    for pk in ids:
        _enqueue(pk)


def sweep(now=None) -> int:
    """Re-enqueue notifications nobody is working on: pending too long (a lost enqueue),
    retrying and due, or sending by a worker that died."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=conf.OUTBOX_GRACE_SECONDS)
    stale = now - timedelta(seconds=conf.STALE_SENDING_SECONDS)
    ids = list(
        Notification.objects.filter(
            Q(status="pending", created_at__lt=grace)
            | Q(status="retrying", next_attempt_at__lte=now)
            | Q(status="sending", claimed_at__lt=stale)
        ).values_list("pk", flat=True)[:500]
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for pk in ids:
            deliver(pk)
    else:
        deliver_later(ids)
    return len(ids)


def send_test(channel, user=None) -> Notification:
    """Send one test notice to a channel now, without retries, and log it: the operator sees
    at once whether the address or webhook works (status "sent" or "failed" with the error)."""
    import uuid

    who = user.get_username() if user else "system"
    text = (
        f"Test notification from WedSync Ops to channel “{channel.name}”, sent by {who}. "
        "No alert is firing; nothing to do."
    )
    n = Notification.objects.create(
        key=f"test:{channel.pk}:{uuid.uuid4().hex}",
        kind=Notification.Kind.TEST,
        channel_kind=channel.kind,
        channel=channel,
        target=channel.target,
        secret=channel.secret,
        subject=f"[TEST] WedSync Ops → {channel.name}"[:300],
        payload={"event": "test", "channel": channel.name, "sent_by": who, "text": text},
        status=Notification.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now(),
    )
    try:
        notifiers.send(n)
    except Exception as exc:  # the operator sees why, and the log keeps it
        n.status, n.error = Notification.Status.FAILED, str(exc)[:2000] or type(exc).__name__
    else:
        n.status, n.sent_at = Notification.Status.SENT, timezone.now()
    n.save(update_fields=["status", "error", "sent_at"])
    return n
