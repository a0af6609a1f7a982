"""A short in-process memory of which API token belongs to which active user.

DRF's TokenAuthentication asks PostgreSQL on every request (token joined to user), and
role checks ask again for the user's groups. Machine clients (metric ingesters) send
hundreds of requests a second with one token, so both answers are kept for
TOKEN_CACHE_SECONDS (default 5 s). The bound this gives: a deleted token, a deactivated
user or a changed group membership is honoured by every process within that time, and
at once by the process that made the change (the receivers below clear the memory).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

_MAX_ENTRIES = 4096
_lock = threading.Lock()
_entries: dict[str, tuple[Any, float]] = {}  # token key -> ((user, token), expires)


def _ttl() -> float:
    return float(getattr(settings, "TOKEN_CACHE_SECONDS", 5.0))


def get(key: str) -> Any | None:
    """What was remembered for this token key ((user, token)), or None (unknown or
    expired)."""
    entry = _entries.get(key)
    if entry is None:
        return None
    value, expires = entry
    if time.monotonic() >= expires:
        _entries.pop(key, None)
        return None
    return value


def put(key: str, value: Any) -> None:
    ttl = _ttl()
    if ttl <= 0:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            # Many distinct tokens within a few seconds: forget them all rather than keep
            # an ordering; the next request of each costs one query again.
            _entries.clear()
        _entries[key] = (value, time.monotonic() + ttl)


def clear(*_: object, **__: object) -> None:
    """Forget everything (a signal receiver: any token, user or group change)."""
    with _lock:
        _entries.clear()


def group_names(user: Any) -> frozenset[str]:
    """The names of the user's groups, asked once per user object.

    A user from the token memory keeps its answer as long as the entry lives; a session
    user is loaded afresh by each request, so its answer lives one request.
    """
    names = getattr(user, "_wso_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._wso_group_names = names
    return names


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    for sender in (Token, user_model, Group):
        post_save.connect(clear, sender=sender, dispatch_uid=f"token_cache.save.{sender}")
        post_delete.connect(clear, sender=sender, dispatch_uid=f"token_cache.delete.{sender}")
    m2m_changed.connect(clear, sender=user_model.groups.through, dispatch_uid="token_cache.m2m")
