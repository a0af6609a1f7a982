"""Private status-page links: issue (or rotate), revoke, and the one guard that resolves a
token to its wedding. API, admin, the console and the management command all go through
these functions.

A token is 32 random bytes (256 bits, URL-safe base64); only its SHA-256 is stored. A link
is valid from the start of the day before the wedding until the end of the day after it, in
the venue's time zone, computed from the wedding's current date (a rescheduled wedding moves
its links with it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from apps.statuspages.models import StatusLink
from apps.weddings.models import Wedding

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not a token.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkError(ValueError):
    """A link that cannot be issued (the message says why, for a 400)."""


@dataclass(frozen=True)
class Issued:
    link: StatusLink
    token: str
    path: str
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def window(wedding: Wedding) -> tuple[datetime, datetime]:
    """[valid_from, valid_until) in UTC: the day before through the day after, venue time."""
    tz = ZoneInfo(wedding.venue.timezone)
    start = datetime.combine(wedding.date - timedelta(days=1), time(0), tzinfo=tz)
    end = datetime.combine(wedding.date + timedelta(days=2), time(0), tzinfo=tz)
    # A reception that runs past midnight into the day after still ends inside the window.
    utc = ZoneInfo("UTC")
    return start.astimezone(utc), end.astimezone(utc)


def page_path(token: str) -> str:
    return f"/status/{token}/"


def issue(wedding: Wedding, user=None, now: datetime | None = None) -> Issued:
    """A new link for the wedding; any earlier live link is revoked (rotation)."""
    now = now or timezone.now()
    _, until = window(wedding)
    if now >= until:
        raise LinkError(
            f"The wedding was on {wedding.date.isoformat()}: its status page closed at "
            f"{until.isoformat()}."
        )
    if wedding.status == Wedding.Status.CANCELLED:
        raise LinkError("The wedding is cancelled: it has no status page.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        Wedding.objects.select_for_update().filter(pk=wedding.pk).first()
        _revoke_all(wedding, user, now)
        link = StatusLink.objects.create(
            wedding=wedding, token_hash=hash_token(token), created_by=_user(user)
        )
    return Issued(link=link, token=token, path=page_path(token), expires_at=until)


def revoke(wedding: Wedding, user=None, now: datetime | None = None) -> int:
    """Revoke every live link of the wedding; returns how many."""
    with transaction.atomic():
        return _revoke_all(wedding, user, now or timezone.now())


def _revoke_all(wedding: Wedding, user, now: datetime) -> int:
    return StatusLink.objects.filter(wedding=wedding, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=_user(user)
    )


def _user(user):
    return user if getattr(user, "pk", None) and getattr(user, "is_authenticated", False) else None


def resolve(token: str, now: datetime | None = None) -> StatusLink | None:
    """The guard: the live link for this token, or None (unknown, revoked, expired, not yet
    valid, or a cancelled wedding). Callers answer None with the same 404 in every case."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    digest = hash_token(token)
    link = (
        StatusLink.objects.select_related("wedding", "wedding__venue", "wedding__venue__region")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return None
    wedding = link.wedding
    if wedding.status == Wedding.Status.CANCELLED:
        return None
    start, until = window(wedding)
    now = now or timezone.now()
    if not (start <= now < until):
        return None
    return link


def live_links(now: datetime | None = None):
    """Links not revoked whose wedding's window is open now (for the console)."""
    now = now or timezone.now()
    links = (
        StatusLink.objects.filter(revoked_at__isnull=True)
        .exclude(wedding__status=Wedding.Status.CANCELLED)
        # Coarse bound in SQL (a window is at most three days around the date), exact below.
        .filter(
            wedding__date__gte=(now - timedelta(days=3)).date(),
            wedding__date__lte=(now + timedelta(days=3)).date(),
        )
        .select_related("wedding", "wedding__venue", "created_by")
    )
    return [link for link in links if window(link.wedding)[0] <= now < window(link.wedding)[1]]
