"""The wedding-day freeze: risky changes are refused while any wedding is live.

Deleting or disabling alert rules, lowering quotas and scaling down call check_freeze()
before they write. An admin may override with a reason; the override is recorded in the
audit log (FreezeOverride) in the same transaction as the change it allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone


class FreezeError(Exception):
    """Refused by the freeze. `weddings` lists the live weddings (id, couple, venue)."""

    def __init__(self, action: str, weddings: list[dict[str, Any]], message: str):
        super().__init__(message)
        self.action = action
        self.weddings = weddings
        self.message = message

    def payload(self) -> dict[str, Any]:
        """Body for an API response (the weddings API answers 409 with it)."""
        return {
            "detail": self.message,
            "code": "wedding_day_freeze",
            "action": self.action,
            "live_weddings": self.weddings,
        }


def _describe(weddings) -> list[dict[str, Any]]:
    return [
        {
            "id": w.pk,
            "couple_name": w.couple_name,
            "venue": w.venue.name,
            "region": w.venue.region.code,
            "starts_at": w.starts_at.isoformat(),
            "ends_at": w.ends_at.isoformat(),
        }
        for w in weddings
    ]


def check_freeze(
    action: str, *, user: Any = None, override_reason: str | None = None, at: datetime | None = None
) -> None:
    """Return if `action` may proceed now; raise FreezeError naming the live weddings if not.

    An admin giving a non-blank reason proceeds, and the override is audited.
    """
    from apps.accounts.roles import is_admin
    from apps.weddings.live import live_weddings
    from apps.weddings.models import FreezeOverride

    at = at or timezone.now()
    live = list(live_weddings(at)[:50])
    if not live:
        return
    described = _describe(live)
    reason = (override_reason or "").strip()
    if reason and is_admin(user):
        FreezeOverride.objects.create(
            action=action,
            user=user if getattr(user, "pk", None) else None,
            username=getattr(user, "get_username", lambda: str(user))(),
            reason=reason,
            live_weddings=described,
        )
        return
    names = "; ".join(f"{w['couple_name']} at {w['venue']} (#{w['id']})" for w in described[:10])
    more = f" and {len(described) - 10} more" if len(described) > 10 else ""
    if reason:
        hint = " Only an admin may override the freeze."
    else:
        hint = " An admin may override with a reason."
    message = (
        f"Refused during the wedding-day freeze: {action}. "
        f"{len(described)} wedding(s) live: {names}{more}.{hint}"
    )
    raise FreezeError(action, described, message)
