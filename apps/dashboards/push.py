"""Push events to every open ops page.

Domain apps never call this: they announce what happened (apps.core.events) and this
module, subscribed in DashboardsConfig.ready, forwards the events the ops pages show.
Events arrive after their transaction committed, so a page never shows a rolled-back
change.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

OPS_GROUP = "ops"

#: the domain events the ops pages show; each payload is already the page's frame
OPS_KINDS = frozenset({"alert", "incident", "scaling"})


def push_ops_now(event: dict) -> None:
    """Send one frame to every open ops page at once."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(OPS_GROUP, {"type": "ops.event", "event": event})
    except Exception:  # a push is best effort: pages resync over REST after a gap
        log.warning("ops push failed", exc_info=True)


def on_domain_event(sender: Any, kind: str, payload: dict, **_: Any) -> None:
    if kind in OPS_KINDS:
        push_ops_now(payload)


def connect() -> None:
    from apps.core.events import domain_event

    domain_event.connect(on_domain_event, dispatch_uid="dashboards.push")
