"""Tell every gateway process when assignments or venue profiles change (after commit)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apps.weddings.models import Supplier, Venue, Wedding

log = logging.getLogger(__name__)


def announce(payload: dict) -> None:
    """Publish a control message to every hub, after the surrounding transaction commits."""

    def send() -> None:
        from apps.realtime.store import get_store

        try:
            get_store().publish_control(payload)
        except Exception as exc:  # Redis down: hubs re-check profiles on their own timer
            log.warning("gateway control message not sent (%s): %s", exc, payload)

    transaction.on_commit(send)


@receiver(m2m_changed, sender=Wedding.suppliers.through)
def assignments_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if action == "pre_clear":
        # After a clear pk_set is empty: note who was assigned before it.
        if reverse:
            ids = [instance.pk]
        else:
            ids = list(instance.suppliers.values_list("id", flat=True))
        instance._gateway_cleared = ids
        return
    if action == "post_clear":
        ids = getattr(instance, "_gateway_cleared", [])
    elif reverse:  # supplier.weddings.add(...)
        ids = [instance.pk]
    else:
        ids = list(pk_set or [])
    if ids:
        announce({"type": "assignments", "supplier_ids": ids})


@receiver(post_delete, sender=Wedding)
def wedding_deleted(sender, instance, **kwargs) -> None:
    announce({"type": "assignments", "supplier_ids": "all"})


@receiver(post_save, sender=Supplier)
def supplier_saved(sender, instance, **kwargs) -> None:
    # Deactivated: hubs close its connections (4401). Any other change (token rotated,
    # quota edited): hubs forget its remembered handshake grant (apps.realtime.tokens).
    kind = "suppliers" if instance.is_active else "assignments"
    announce({"type": kind, "supplier_ids": [instance.pk]})


@receiver(post_delete, sender=Supplier)
def supplier_deleted(sender, instance, **kwargs) -> None:
    announce({"type": "assignments", "supplier_ids": [instance.pk]})


@receiver(post_save, sender=Venue)
def venue_saved(sender, instance, **kwargs) -> None:
    # Connectivity or degraded changed: hubs reload delivery profiles.
    announce({"type": "profiles"})
