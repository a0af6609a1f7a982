"""The wedding-day change freeze, as the alerts API sees it.

Uses apps.weddings.freeze.check_freeze (the calendar's single rule for every freeze); until
that module exists on this branch, the same rule inline: while any wedding is live, only an
admin who gives a reason may proceed.
"""

from __future__ import annotations

import logging

from apps.accounts.roles import is_admin

log = logging.getLogger(__name__)


class Frozen(Exception):
    pass


def check(action: str, *, user=None, override_reason: str | None = None) -> None:
    try:
        from apps.weddings.freeze import FreezeError, check_freeze
    except ImportError:
        _fallback(action, user=user, override_reason=override_reason)
        return
    try:
        check_freeze(action, user=user, override_reason=override_reason or None)
    except FreezeError as exc:
        raise Frozen(str(exc)) from exc


def _fallback(action: str, *, user, override_reason: str | None) -> None:
    from django.utils import timezone

    from apps.alerts.weddingday import _live_queryset

    live = list(_live_queryset(timezone.now()).values_list("couple_name", flat=True)[:5])
    if not live:
        return
    if override_reason and is_admin(user):
        log.warning("freeze override by %s for %s: %s", user, action, override_reason)
        return
    raise Frozen(
        f"Change freeze: {action} refused while weddings are live ({', '.join(live)}). "
        "An admin may override by giving override_reason."
    )
