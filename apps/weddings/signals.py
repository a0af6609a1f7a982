"""Keep a wedding's expected connections in step with its suppliers, whoever edits them."""

from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from apps.weddings.models import Wedding


@receiver(m2m_changed, sender=Wedding.suppliers.through)
def suppliers_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # supplier.weddings.add(...): refresh each wedding touched
        ids = pk_set if pk_set is not None else []
        for wedding in Wedding.objects.filter(pk__in=ids).select_related("venue"):
            wedding.refresh_expected_connections()
    else:
        instance.refresh_expected_connections()
