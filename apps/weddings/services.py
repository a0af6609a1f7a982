"""The one write path for weddings: validation, the overlap rule, suppliers, in one transaction.

The overlap rule (a venue holds one wedding at a time) is checked here for a clear error
naming the clashing wedding, and enforced by PostgreSQL's exclusion constraint for the race
the check cannot see: two concurrent requests both pass the check, the second INSERT waits
for the first to commit and then fails, and we turn that failure into the same error.
SQLite (the embedded, single-process mode) has no such constraint: the check and the write
run under a lock, which serializes them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction

from apps.weddings.models import Venue, Wedding

OVERLAP_CONSTRAINT = "wedding_venue_no_overlap"
_sqlite_write_lock = threading.Lock()


def find_overlap(
    venue: Venue, starts_at: datetime, ends_at: datetime, exclude_pk: int | None = None
) -> Wedding | None:
    clash = (
        Wedding.objects.filter(venue=venue, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(status=Wedding.Status.CANCELLED)
        .order_by("starts_at")
    )
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    return clash.first()


def overlap_message(venue: Venue, other: Wedding | None) -> str:
    if other is None:
        return (
            f"{venue.name} already holds a wedding at these times (booked by a concurrent request)."
        )
    local_start = other.starts_at.astimezone(venue.tz)
    local_end = other.ends_at.astimezone(venue.tz)
    return (
        f"{venue.name} already holds {other.couple_name!r} (#{other.pk}) from "
        f"{local_start:%Y-%m-%d %H:%M} to {local_end:%Y-%m-%d %H:%M} local time; "
        "a venue cannot hold two weddings whose times overlap."
    )


MAX_WEDDING_HOURS = 18


def check_times(wedding: Wedding) -> None:
    """A wedding lasts more than nothing and less than MAX_WEDDING_HOURS (an end earlier
    than the ceremony is the next day, so 14:00 → 13:00 would be 23 hours: a typo)."""
    if wedding.ceremony_time == wedding.reception_end_time:
        raise ValidationError(
            {"reception_end_time": ["The reception cannot end when the ceremony starts."]}
        )
    wedding.compute_instants()
    hours = (wedding.ends_at - wedding.starts_at).total_seconds() / 3600
    if hours > MAX_WEDDING_HOURS:
        raise ValidationError(
            {
                "reception_end_time": [
                    f"The wedding would last {hours:.1f} hours (an end before the ceremony "
                    f"means the next day); at most {MAX_WEDDING_HOURS} hours."
                ]
            }
        )


def check_overlap(wedding: Wedding) -> None:
    """Raise ValidationError on `venue` if the (unsaved) wedding clashes with another."""
    if wedding.status == Wedding.Status.CANCELLED:
        return
    wedding.compute_instants()
    other = find_overlap(wedding.venue, wedding.starts_at, wedding.ends_at, wedding.pk)
    if other is not None:
        raise ValidationError({"venue": [overlap_message(wedding.venue, other)]})


def save_wedding(
    wedding: Wedding | None = None,
    *,
    suppliers: Iterable[Any] | None = None,
    **fields: Any,
) -> Wedding:
    """Create or update a wedding (and its suppliers); all or nothing.

    Raises django ValidationError keyed by field name.
    """
    wedding = wedding or Wedding()
    for name, value in fields.items():
        setattr(wedding, name, value)
    # Two bookings racing for one venue can deadlock inside PostgreSQL (each waits on the
    # other's exclusion-constraint check); the loser is retried and then gets the clear
    # overlap 400 instead of a 503.
    for attempt in range(3):
        try:
            return _save_once(wedding, suppliers)
        except OperationalError as exc:
            if attempt == 2 or getattr(exc.__cause__, "sqlstate", None) not in RETRYABLE:
                raise
            if wedding._state.adding:
                wedding.pk = None
    raise AssertionError("unreachable")


RETRYABLE = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def _save_once(wedding: Wedding, suppliers: Iterable[Any] | None) -> Wedding:
    lock = _sqlite_write_lock if connection.vendor == "sqlite" else nullcontext()
    with lock, transaction.atomic():
        check_times(wedding)
        check_overlap(wedding)
        try:
            with transaction.atomic():  # a savepoint: the outer transaction stays usable
                wedding.save()
        except IntegrityError as exc:
            if OVERLAP_CONSTRAINT not in str(exc):
                raise
            other = find_overlap(wedding.venue, wedding.starts_at, wedding.ends_at, wedding.pk)
            raise ValidationError({"venue": [overlap_message(wedding.venue, other)]}) from exc
        if suppliers is not None:
            wedding.suppliers.set(list(suppliers))
            wedding.refresh_expected_connections()
    return wedding
