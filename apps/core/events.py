"""Domain events: an app announces what happened; whoever cares subscribes.

Domain code (alerts, scaling, emergencies) must not import the screens that show it.
It calls `announce("alert", {...})`; the event is sent after the surrounding transaction
commits (at once outside one), so no subscriber ever sees a change that was rolled back.
The dashboards app subscribes in its ``AppConfig.ready`` and pushes the event to every
open ops page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

#: sent with ``kind`` (str) and ``payload`` (dict) after commit
domain_event = Signal()


def announce_now(kind: str, payload: dict[str, Any]) -> None:
    """Tell every subscriber at once; a failing subscriber is logged, never raised."""
    for receiver, result in domain_event.send_robust(sender=kind, kind=kind, payload=payload):
        if isinstance(result, Exception):
            log.warning("subscriber %r of %s failed: %s", receiver, kind, result)


def announce(kind: str, payload: dict[str, Any]) -> None:
    """Tell every subscriber once the surrounding transaction commits."""
    transaction.on_commit(lambda: announce_now(kind, payload))
