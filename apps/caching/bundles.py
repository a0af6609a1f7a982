"""The wedding data everyone reads, cached: a wedding's bundle and a supplier's weddings.

Keys and tags (invalidation in apps/caching/signals.py follows these):
- `wedding:<id>:bundle`, tagged `wedding:<id>` only, so a read needs no query to
  know its tags; a write to its venue or one of its suppliers invalidates the tags
  of the weddings concerned (a supplier's name is in the bundle);
- `supplier:<id>:weddings`, tagged `supplier:<id>`.
Values are shared with other callers: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

from apps.caching.service import cache


class WeddingNotFound(LookupError):
    """No wedding with that id (not cached: the next read asks the database again)."""


def bundle_key(wedding_id: int) -> str:
    return f"wedding:{wedding_id}:bundle"


def supplier_key(supplier_id: int) -> str:
    return f"supplier:{supplier_id}:weddings"


def wedding_bundle(wedding_id: int) -> dict:
    """The wedding, its venue and connectivity profile, its suppliers and timeline.

    Raises WeddingNotFound for an unknown id."""
    wedding_id = int(wedding_id)
    return cache.get_or_load(
        bundle_key(wedding_id),
        lambda: load_wedding_bundle(wedding_id),
        tags=(f"wedding:{wedding_id}",),
    )


def supplier_wedding_ids(supplier_id: int) -> frozenset[int]:
    """Ids of the weddings a supplier works at: what the gateway checks on subscribe."""
    supplier_id = int(supplier_id)
    return cache.get_or_load(
        supplier_key(supplier_id),
        lambda: load_supplier_wedding_ids(supplier_id),
        tags=(f"supplier:{supplier_id}",),
    )


def detail_key(wedding_id: int) -> str:
    return f"wedding:{wedding_id}:detail"


def wedding_detail(wedding_id: int, render: Callable[[], dict]) -> dict:
    """The wedding API's detail representation, rendered by `render` on a miss."""
    return cache.get_or_load(detail_key(wedding_id), render, tags=(f"wedding:{wedding_id}",))


def warm_wedding(wedding_id: int) -> bool:
    """Load a bundle (and its suppliers' maps) into the cache; False if it does not exist."""
    try:
        bundle = wedding_bundle(wedding_id)
    except WeddingNotFound:
        return False
    for supplier in bundle["suppliers"]:
        supplier_wedding_ids(supplier["id"])
    return True


# --- loaders (the database reads behind the cache) -------------------------------


def load_wedding_bundle(wedding_id: int) -> dict:
    from apps.weddings.models import Wedding

    wedding = (
        Wedding.objects.select_related("venue", "venue__region")
        .prefetch_related("suppliers")
        .filter(pk=wedding_id)
        .first()
    )
    if wedding is None:
        raise WeddingNotFound(f"no wedding with id {wedding_id}")
    venue = wedding.venue
    return {
        "id": wedding.id,
        "couple_name": wedding.couple_name,
        "date": wedding.date,
        "status": wedding.status,
        "expected_guests": wedding.expected_guests,
        "expected_connections": wedding.expected_connections,
        "timeline": {
            "ceremony_time": wedding.ceremony_time,
            "reception_end_time": wedding.reception_end_time,
            "starts_at": wedding.starts_at,
            "ends_at": wedding.ends_at,
            "timezone": venue.timezone,
        },
        "venue": {
            "id": venue.id,
            "name": venue.name,
            "venue_type": venue.venue_type,
            "region": venue.region.code,
            "timezone": venue.timezone,
            "degraded": venue.degraded,
        },
        "profile": venue_profile(venue),
        "suppliers": [
            {"id": s.id, "name": s.name, "kind": s.kind, "is_active": s.is_active}
            for s in sorted(wedding.suppliers.all(), key=lambda s: s.id)
        ],
        "updated_at": wedding.updated_at,
    }


def load_supplier_wedding_ids(supplier_id: int) -> frozenset[int]:
    from apps.weddings.models import Wedding

    return frozenset(
        Wedding.suppliers.through.objects.filter(supplier_id=supplier_id).values_list(
            "wedding_id", flat=True
        )
    )


def venue_profile(venue: Any) -> dict:
    """The venue's connectivity profile as a dict (apps.weddings.profiles)."""
    from apps.weddings.profiles import profile_for_venue

    profile = profile_for_venue(venue)
    return asdict(profile) if is_dataclass(profile) else dict(profile)
