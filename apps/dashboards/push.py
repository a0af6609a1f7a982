"""Push events to every open ops page, after the surrounding transaction commits."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

OPS_GROUP = "ops"


def push_ops_now(event: dict) -> None:
    """Send at once (use push_ops inside a transaction)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(OPS_GROUP, {"type": "ops.event", "event": event})
    except Exception:  # a push is best effort: pages resync over REST after a gap
        log.warning("ops push failed", exc_info=True)


def push_ops(event: dict) -> None:
    transaction.on_commit(lambda: push_ops_now(event))
