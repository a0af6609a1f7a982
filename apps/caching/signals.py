"""Writes to weddings, venues and suppliers invalidate what the cache holds about them.

Invalidation runs after the transaction commits (a reader must not reload the old
row between our invalidation and the commit). Bundles are tagged `wedding:<id>`
and supplier maps `supplier:<id>` (see bundles.py), so a venue, region or supplier
write invalidates the tags of the weddings it appears in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from apps.caching import pinning

INVALIDATE_CHUNK = 500


def _invalidate_after_commit(weddings: Iterable[int] = (), suppliers: Iterable[int] = ()) -> None:
    tags = [f"wedding:{w}" for w in set(weddings)] + [f"supplier:{s}" for s in set(suppliers)]
    if not tags:
        return

    def run() -> None:
        from apps.caching.service import cache

        pinning.forget()
        # A region edit may name thousands of weddings: one Lua call per chunk keeps
        # each call (and the Redis it blocks) short.
        for start in range(0, len(tags), INVALIDATE_CHUNK):
            cache.invalidate_many(tags=tags[start : start + INVALIDATE_CHUNK])

    transaction.on_commit(run)


def _wedding_supplier_ids(wedding_id: int) -> list[int]:
    from apps.weddings.models import Wedding

    return list(
        Wedding.suppliers.through.objects.filter(wedding_id=wedding_id).values_list(
            "supplier_id", flat=True
        )
    )


def _supplier_wedding_ids(supplier_id: int) -> list[int]:
    from apps.weddings.models import Wedding

    return list(
        Wedding.suppliers.through.objects.filter(supplier_id=supplier_id).values_list(
            "wedding_id", flat=True
        )
    )


def wedding_saved(sender, instance, **kwargs) -> None:
    _invalidate_after_commit([instance.pk], _wedding_supplier_ids(instance.pk))


def wedding_deleting(sender, instance, **kwargs) -> None:
    # The supplier links are gone by post_delete: remember them now.
    instance._cache_supplier_ids = _wedding_supplier_ids(instance.pk)


def wedding_deleted(sender, instance, **kwargs) -> None:
    _invalidate_after_commit([instance.pk], getattr(instance, "_cache_supplier_ids", []))


def venue_changed(sender, instance, **kwargs) -> None:
    from apps.weddings.models import Wedding

    weddings = Wedding.objects.filter(venue_id=instance.pk).values_list("id", flat=True)
    _invalidate_after_commit(list(weddings))


def region_changed(sender, instance, **kwargs) -> None:
    """A region save or delete: bundles and API details show its code, so every wedding
    at one of its venues is invalidated (a delete is refused while venues use it, so it
    only matters for saves; it is connected for deletes too in case that rule changes)."""
    from apps.weddings.models import Wedding

    weddings = Wedding.objects.filter(venue__region_id=instance.pk).values_list("id", flat=True)
    _invalidate_after_commit(list(weddings))


def supplier_saved(sender, instance, **kwargs) -> None:
    _invalidate_after_commit(_supplier_wedding_ids(instance.pk), [instance.pk])


def supplier_deleting(sender, instance, **kwargs) -> None:
    instance._cache_wedding_ids = _supplier_wedding_ids(instance.pk)


def supplier_deleted(sender, instance, **kwargs) -> None:
    _invalidate_after_commit(getattr(instance, "_cache_wedding_ids", []), [instance.pk])


def suppliers_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """wedding.suppliers.add/remove/clear, or supplier.weddings.add/remove/clear."""
    if action == "pre_clear":
        if reverse:
            instance._cache_cleared = _supplier_wedding_ids(instance.pk)
        else:
            instance._cache_cleared = _wedding_supplier_ids(instance.pk)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    others = (
        list(pk_set or ()) if action != "post_clear" else getattr(instance, "_cache_cleared", [])
    )
    if reverse:  # instance is a Supplier, the others are weddings
        _invalidate_after_commit(others, [instance.pk])
    else:
        _invalidate_after_commit([instance.pk], others)


def connect() -> None:
    from apps.weddings.models import Region, Supplier, Venue, Wedding

    uid = "apps.caching.signals"
    post_save.connect(wedding_saved, sender=Wedding, dispatch_uid=uid + ".wedding_saved")
    pre_delete.connect(wedding_deleting, sender=Wedding, dispatch_uid=uid + ".wedding_deleting")
    post_delete.connect(wedding_deleted, sender=Wedding, dispatch_uid=uid + ".wedding_deleted")
    post_save.connect(venue_changed, sender=Venue, dispatch_uid=uid + ".venue_saved")
    post_delete.connect(venue_changed, sender=Venue, dispatch_uid=uid + ".venue_deleted")
    post_save.connect(region_changed, sender=Region, dispatch_uid=uid + ".region_saved")
    # Before the delete: its venues (and so its weddings) are still linked then.
    pre_delete.connect(region_changed, sender=Region, dispatch_uid=uid + ".region_deleting")
    post_save.connect(supplier_saved, sender=Supplier, dispatch_uid=uid + ".supplier_saved")
    pre_delete.connect(supplier_deleting, sender=Supplier, dispatch_uid=uid + ".supplier_del")
    post_delete.connect(supplier_deleted, sender=Supplier, dispatch_uid=uid + ".supplier_deleted")
    m2m_changed.connect(
        suppliers_changed, sender=Wedding.suppliers.through, dispatch_uid=uid + ".m2m"
    )
