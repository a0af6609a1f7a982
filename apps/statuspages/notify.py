"""Tell subscribers what changed: a component left operational, an incident was opened,
updated or resolved. One periodic pass (tasks.notify_pass) does both halves:

1. `scan`: for each wedding whose page is open and that has confirmed subscribers, compare
   its summary with what was last recorded (PageState) and write a StatusChange per news.
2. `send_due`: each subscriber with news it has not had, and nothing sent to it in the last
   NOTIFY_MIN_INTERVAL_SECONDS, gets ONE message with all of it (batched), by email (with
   RFC 8058 one-click unsubscribe headers) or a signed webhook POST.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import orjson
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.webhooks import post_json
from apps.statuspages import conf, live_data, subscriptions
from apps.statuspages.components import LABELS, OPERATIONAL
from apps.statuspages.links import window
from apps.statuspages.models import Delivery, PageState, StatusChange, Subscriber
from apps.weddings.models import Wedding

log = logging.getLogger(__name__)


def public_base() -> str:
    from apps.alerts import conf as alerts_conf

    return (conf.get("PUBLIC_URL") or alerts_conf.PUBLIC_URL).rstrip("/")


def state_of(summary: dict) -> dict:
    return {
        "components": {c["id"]: [c["status"], c["name"]] for c in summary["components"]},
        "incidents": {
            i["id"]: [i["status"], len(i["incident_updates"]), i["name"]]
            for i in summary["incidents"]
        },
    }


def changes_between(old: dict, new: dict, summary: dict) -> list[tuple[str, str]]:
    """(kind, text) for each piece of news from `old` to `new`."""
    found: list[tuple[str, str]] = []
    old_c, old_i = old.get("components", {}), old.get("incidents", {})
    words = {c["id"]: c["description"] for c in summary["components"]}
    for cid, (status, name) in new["components"].items():
        before = old_c.get(cid, [OPERATIONAL])[0]
        if status != OPERATIONAL and before == OPERATIONAL:
            found.append(("component", f"{name}: {LABELS[status]}. {words.get(cid, '')}"))
        elif status == OPERATIONAL and before != OPERATIONAL:
            found.append(("component", f"{name}: back to operational."))
    latest = {
        i["id"]: (i["incident_updates"][0]["body"] if i["incident_updates"] else "")
        for i in summary["incidents"]
    }
    for iid, (status, count, name) in new["incidents"].items():
        if iid not in old_i:
            kind = "resolved" if status == "resolved" else "opened"
            found.append((f"incident_{kind}", f"Incident {kind}: {name}. {latest[iid]}"))
        elif status == "resolved" and old_i[iid][0] != "resolved":
            found.append(("incident_resolved", f"Incident resolved: {name}."))
        elif count > old_i[iid][1] or status != old_i[iid][0]:
            found.append(("incident_updated", f"Incident update ({status}): {name}. {latest[iid]}"))
    return [(kind, text.strip()[:500]) for kind, text in found]


def scan(now: datetime | None = None) -> int:
    """Record news for every open page that has someone to tell. Returns how many."""
    now = now or timezone.now()
    ids = (
        Subscriber.objects.filter(confirmed_at__isnull=False)
        .filter(
            wedding__date__gte=(now - timedelta(days=3)).date(),
            wedding__date__lte=(now + timedelta(days=3)).date(),
        )
        .values_list("wedding_id", flat=True)
        .distinct()
    )
    written = 0
    for wedding in Wedding.objects.filter(pk__in=list(ids)).select_related("venue__region"):
        start, end = window(wedding)
        if not (start <= now < end):
            continue
        summary = live_data.summary(wedding, fresh=True)
        new = state_of(summary)
        with transaction.atomic():
            record, _ = PageState.objects.select_for_update().get_or_create(wedding=wedding)
            news = changes_between(record.state or {}, new, summary)
            for kind, text in news:
                StatusChange.objects.create(wedding=wedding, kind=kind, text=text)
            if news or record.state != new:
                record.state = new
                record.save(update_fields=["state", "updated_at"])
        written += len(news)
    return written


def send_due(now: datetime | None = None) -> int:
    """One batched message to each subscriber with unsent news and nothing sent to it in
    the last minute. Returns how many messages went out."""
    now = now or timezone.now()
    gap = timedelta(seconds=conf.get("NOTIFY_MIN_INTERVAL_SECONDS"))
    due = Subscriber.objects.filter(confirmed_at__isnull=False).filter(
        Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - gap)
    )
    sent = 0
    for subscriber_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # skip_locked: a second worker running the same pass takes other subscribers.
            subscriber = (
                Subscriber.objects.select_for_update(skip_locked=True)
                .select_related("wedding", "wedding__venue")
                .filter(pk=subscriber_id)
                .first()
            )
            if subscriber is None:
                continue
            if subscriber.last_sent_at and subscriber.last_sent_at > now - gap:
                continue
            news = list(
                StatusChange.objects.filter(
                    wedding_id=subscriber.wedding_id, pk__gt=subscriber.cursor
                ).order_by("pk")[:50]
            )
            if not news:
                continue
            ok, subject, error = _send(subscriber, news)
            # Sent or not, the cursor moves on: a dead webhook must not pile up news, and
            # the delivery log says what failed.
            subscriber.cursor = news[-1].pk
            subscriber.last_sent_at = now
            subscriber.save(update_fields=["cursor", "last_sent_at"])
            Delivery.objects.create(
                subscriber=subscriber,
                wedding_id=subscriber.wedding_id,
                kind="changes",
                subject=subject[:300],
                changes=len(news),
                status=Delivery.Status.SENT if ok else Delivery.Status.FAILED,
                error=error[:300],
            )
            sent += ok
    return sent


def _subject(subscriber: Subscriber, news: list[StatusChange]) -> str:
    couple = subscriber.wedding.couple_name
    return f"{couple}: wedding day status ({len(news)} update{'s' * (len(news) != 1)})"


def _send(subscriber: Subscriber, news: list[StatusChange]) -> tuple[bool, str, str]:
    subject = _subject(subscriber, news)
    try:
        if subscriber.kind == Subscriber.Kind.EMAIL:
            _email(subscriber, subject, news)
        else:
            _webhook(subscriber, subject, news)
    except Exception as exc:  # logged on the delivery row; the next news tries again
        log.warning("status notification to subscriber %s failed: %s", subscriber.pk, exc)
        return False, subject, f"{type(exc).__name__}: {exc}"
    return True, subject, ""


def unsubscribe_url(subscriber: Subscriber) -> str:
    return f"{public_base()}/status/unsubscribe/{subscriptions.unsubscribe_token(subscriber)}/"


def _email(subscriber: Subscriber, subject: str, news: list[StatusChange]) -> None:
    wedding = subscriber.wedding
    tz = wedding.venue.tz
    lines = [f"{c.at.astimezone(tz):%H:%M}  {c.text}" for c in news]
    unsubscribe = unsubscribe_url(subscriber)
    body = "\n".join(
        [
            f"News for {wedding.couple_name}'s wedding at {wedding.venue.name} "
            f"({wedding.date:%d %B %Y}), times in {wedding.venue.timezone}:",
            "",
            *lines,
            "",
            "Open your status page link for the full picture.",
            f"Stop these emails: {unsubscribe}",
        ]
    )
    message = EmailMessage(
        subject,
        body,
        to=[subscriber.target],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.send(fail_silently=False)


def _webhook(subscriber: Subscriber, subject: str, news: list[StatusChange]) -> None:
    wedding = subscriber.wedding
    payload = {
        "event": "status_changes",
        "subject": subject,
        "wedding": {"couple": wedding.couple_name, "date": wedding.date.isoformat()},
        "changes": [{"at": c.at.isoformat(), "kind": c.kind, "text": c.text} for c in news],
        "summary": live_data.summary(wedding),
    }
    post_json(
        subscriber.target,
        orjson.dumps(payload),
        timeout=conf.get("WEBHOOK_TIMEOUT_SECONDS"),
        secret=subscriber.secret,
        user_agent="WedSync-Status/1",
    )


def send_confirmation(subscriber_id: int) -> bool:
    subscriber = (
        Subscriber.objects.select_related("wedding", "wedding__venue")
        .filter(pk=subscriber_id, confirmed_at__isnull=True)
        .first()
    )
    if subscriber is None:
        return False
    wedding = subscriber.wedding
    link = f"{public_base()}/status/confirm/{subscriptions.confirm_token(subscriber)}/"
    subject = f"Confirm: status emails for {wedding.couple_name}'s wedding"
    body = (
        f"Someone asked to send this address news about {wedding.couple_name}'s wedding "
        f"day at {wedding.venue.name} ({wedding.date:%d %B %Y}).\n\n"
        f"To confirm, open this link and press the button:\n{link}\n\n"
        "If that was not you, ignore this email: nothing will be sent."
    )
    ok, error = True, ""
    try:
        EmailMessage(subject, body, to=[subscriber.target]).send(fail_silently=False)
    except Exception as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"
    Delivery.objects.create(
        subscriber=subscriber,
        wedding=wedding,
        kind="confirm",
        subject=subject[:300],
        status=Delivery.Status.SENT if ok else Delivery.Status.FAILED,
        error=error[:300],
    )
    return ok


def notify_pass() -> dict:
    return {
        "changes": scan(),
        "sent": send_due(),
        "dropped_unconfirmed": subscriptions.drop_stale_unconfirmed(),
    }
