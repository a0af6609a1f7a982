"""Email subscriptions (double opt-in, one-click unsubscribe) and operator-added webhooks.

Nothing a visitor sees depends on whether an address is already subscribed: the form always
answers "check your inbox"; only the inbox learns more. Confirmation and unsubscribe links
are signed (django.core.signing), so no token is stored for them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.core.validators import validate_email as django_validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.statuspages import conf
from apps.statuspages.models import StatusChange, Subscriber
from apps.weddings.models import Wedding

CONFIRM_SALT = "statuspages.confirm"
UNSUB_SALT = "statuspages.unsubscribe"
# One confirmation email per address per this long, however often the form is sent.
RESEND_AFTER = timedelta(minutes=5)


def validate_email(email: str) -> str | None:
    """An error message for a bad address, else None."""
    if not email:
        return "email: an address is required."
    if len(email) > 254:
        return "email: at most 254 characters."
    try:
        django_validate_email(email)
    except ValidationError:
        return "email: not a valid address."
    return None


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk}, salt=CONFIRM_SALT, compress=True)


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "t": subscriber.target}, salt=UNSUB_SALT)


def request_email(wedding: Wedding, email: str, page_path: str = "") -> None:
    """Record an unconfirmed subscription and send the confirmation email after commit.
    An address already confirmed gets nothing (its owner is already subscribed)."""
    email = email.strip().lower()
    with transaction.atomic():
        try:
            subscriber, _ = Subscriber.objects.get_or_create(
                wedding=wedding, kind=Subscriber.Kind.EMAIL, target=email
            )
        except IntegrityError:  # a concurrent request created it
            subscriber = Subscriber.objects.get(
                wedding=wedding, kind=Subscriber.Kind.EMAIL, target=email
            )
        if subscriber.confirmed_at is not None:
            return
    # One confirmation per address per RESEND_AFTER: cache.add is atomic (Redis SET NX in
    # the full stack), so concurrent requests in several processes send one email between them.
    if not cache.add(f"statuspages:confirm-sent:{subscriber.pk}", 1, RESEND_AFTER.total_seconds()):
        return
    from apps.statuspages import tasks

    transaction.on_commit(lambda: tasks.send_confirmation.delay(subscriber.pk))


def confirm(signed: str) -> bool:
    max_age = conf.get("CONFIRM_TTL_HOURS") * 3600
    try:
        data = signing.loads(signed, salt=CONFIRM_SALT, max_age=max_age)
    except signing.BadSignature:
        return False
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=data.get("s")).first()
        if subscriber is None:
            return False
        if subscriber.confirmed_at is None:
            subscriber.confirmed_at = timezone.now()
            # Only what happens from now on: no replay of the day so far.
            subscriber.cursor = _latest_change(subscriber.wedding_id)
            subscriber.save(update_fields=["confirmed_at", "cursor"])
    return True


def unsubscribe(signed: str) -> bool:
    try:
        data = signing.loads(signed, salt=UNSUB_SALT)
    except signing.BadSignature:
        return False
    deleted, _ = Subscriber.objects.filter(pk=data.get("s"), target=data.get("t")).delete()
    return bool(deleted)


def add_webhook(wedding: Wedding, url: str) -> Subscriber:
    """Operators add webhooks (the server will POST to the URL, so visitors may not)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValueError("url: an http(s) URL is required.") from None
    if len(url) > 500 or not urlsplit(url).hostname:
        raise ValueError("url: at most 500 characters, with a host.")
    subscriber, _ = Subscriber.objects.get_or_create(
        wedding=wedding,
        kind=Subscriber.Kind.WEBHOOK,
        target=url,
        defaults={
            "secret": secrets.token_urlsafe(24),
            "confirmed_at": timezone.now(),
            "cursor": _latest_change(wedding.pk),
        },
    )
    return subscriber


def _latest_change(wedding_id: int) -> int:
    return StatusChange.objects.filter(wedding_id=wedding_id).aggregate(m=Max("pk"))["m"] or 0


def drop_stale_unconfirmed() -> int:
    cutoff = timezone.now() - timedelta(hours=conf.get("CONFIRM_TTL_HOURS"))
    deleted, _ = Subscriber.objects.filter(
        kind=Subscriber.Kind.EMAIL, confirmed_at__isnull=True, created_at__lt=cutoff
    ).delete()
    return deleted
