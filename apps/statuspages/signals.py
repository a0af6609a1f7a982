"""After a commit that can change a status page, wake every process's status hub
(live.StatusHub) so open pages update at once instead of at the next tick."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

log = logging.getLogger(__name__)


def _send() -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)("statuspages", {"type": "status.changed"})
    except Exception:  # best effort: the hubs' tick catches up within a second
        log.warning("status pages: change announcement failed", exc_info=True)


def announce_now() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _send()
    # Called from a thread that runs an event loop (async_to_sync refuses to block it).
    threading.Thread(target=_send, name="statuspages-announce", daemon=True).start()


# Bulk writes (seed_demo saves thousands of weddings) would announce thousands of times; the
# hubs' one-second tick covers anything a skipped announcement would have said.
DEBOUNCE_SECONDS = 0.2
_last = 0.0


def _announce_debounced() -> None:
    global _last
    from apps.statuspages.live_data import bump_generation

    bump_generation()  # every time: cached summaries must not outlive a write
    now = time.monotonic()
    if now - _last < DEBOUNCE_SECONDS:
        return
    _last = now
    announce_now()


def announce(**_: object) -> None:
    from apps.statuspages.live_data import bump_generation

    # Now (this process reads its own writes at once) and again after commit (a reader that
    # cached the old state meanwhile must not keep it).
    bump_generation()
    transaction.on_commit(_announce_debounced)


def connect() -> None:
    from apps.alerts.models import Incident, IncidentEvent, MaintenanceWindow
    from apps.statuspages.models import PublicUpdate, StatusLink
    from apps.weddings.models import Venue, Wedding

    for model in (
        Incident,
        IncidentEvent,
        MaintenanceWindow,
        PublicUpdate,
        StatusLink,
        Venue,
        Wedding,
    ):
        post_save.connect(announce, sender=model, dispatch_uid=f"statuspages-{model.__name__}")
        post_delete.connect(announce, sender=model, dispatch_uid=f"statuspages-d-{model.__name__}")
    # Suppliers joining or leaving a wedding change its components.
    m2m_changed.connect(announce, sender=Wedding.suppliers.through, dispatch_uid="statuspages-m2m")
