"""Who may subscribe to what. One lookup function (the cache engineer may back it with
the two-tier cache later)."""

from __future__ import annotations

from apps.realtime.topics import parse_topic


def supplier_wedding_ids(supplier_id: int) -> frozenset[int]:
    """Ids of the weddings a supplier is assigned to (read from the database)."""
    from apps.weddings.models import Wedding

    return frozenset(Wedding.objects.filter(suppliers__id=supplier_id).values_list("id", flat=True))


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
