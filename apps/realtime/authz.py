"""Who may subscribe to what. One lookup function, backed by the two-tier cache."""

from __future__ import annotations

from apps.realtime.topics import parse_topic


def supplier_wedding_ids(supplier_id: int) -> frozenset[int]:
    """Ids of the weddings a supplier is assigned to, through the two-tier cache
    (apps.caching): ~1 us from L1; any change to the supplier's weddings invalidates it
    in every process within milliseconds."""
    from apps.caching.bundles import supplier_wedding_ids as cached

    return cached(supplier_id)


def may_subscribe(supplier_id: int, wedding_ids: frozenset[int], topic: str) -> bool:
    kind, ident = parse_topic(topic)
    if kind == "supplier":
        return ident == supplier_id
    return ident in wedding_ids


def active_wedding_ids(supplier_id: int) -> frozenset[int] | None:
    """As supplier_wedding_ids, or None when the supplier is gone or deactivated."""
    from apps.weddings.models import Supplier

    if not Supplier.objects.filter(pk=supplier_id, is_active=True).exists():
        return None
    return supplier_wedding_ids(supplier_id)
