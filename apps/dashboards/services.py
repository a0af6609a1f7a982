"""Dashboard domain logic: who sees and edits what, export and import."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.text import slugify

from apps.accounts.roles import is_admin, is_operator
from apps.dashboards.models import Dashboard, Widget
from apps.dashboards.specs import EXPORT_FORMAT, RESERVED_SLUGS, SpecError, clean_dashboard

WIDGET_FIELDS = (
    "kind",
    "title",
    "queries",
    "thresholds",
    "unit",
    "options",
    "position",
    "width",
    "height",
)


def visible_dashboards(user: Any) -> QuerySet[Dashboard]:
    """Shared dashboards for every operator, private ones for their owner (admins see all)."""
    if not is_operator(user):
        return Dashboard.objects.none()
    if is_admin(user):
        return Dashboard.objects.all()
    return Dashboard.objects.filter(Q(shared=True) | Q(owner=user))


def can_edit(user: Any, dashboard: Dashboard) -> bool:
    """Operators edit shared dashboards and their own; admins edit all."""
    if not is_operator(user):
        return False
    return is_admin(user) or dashboard.shared or dashboard.owner_id == user.pk


def can_delete(user: Any, dashboard: Dashboard) -> bool:
    """A private dashboard: whoever may edit it. A shared one: its owner or an admin."""
    if not can_edit(user, dashboard):
        return False
    return not dashboard.shared or is_admin(user) or dashboard.owner_id == user.pk


def name_taken(name: str) -> bool:
    return Dashboard.objects.filter(name__iexact=name.strip()).exists()


def unique_slug(base: str, exclude_id: int | None = None) -> str:
    root = (slugify(base) or "dashboard")[:70]
    slug, n = root, 2
    taken = Dashboard.objects.exclude(pk=exclude_id)
    while slug in RESERVED_SLUGS or taken.filter(slug=slug).exists():
        slug, n = f"{root}-{n}", n + 1
    return slug


def export_dashboard(dashboard: Dashboard) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "name": dashboard.name,
        "slug": dashboard.slug,
        "description": dashboard.description,
        "shared": dashboard.shared,
        "default_range": dashboard.default_range,
        "tags": list(dashboard.tags),
        "widgets": [{f: getattr(w, f) for f in WIDGET_FIELDS} for w in dashboard.widgets.all()],
    }


@transaction.atomic
def import_dashboard(document: Any, owner: Any) -> Dashboard:
    """Create a dashboard from an export. Raises SpecError (nothing saved) on any bad field.

    An existing slug is never overwritten: the import gets a fresh slug ("-2", "-3"...)."""
    fields, widgets = clean_dashboard(document)
    if name_taken(fields["name"]):
        # Two dashboards of one name cannot be told apart in the list: ask for another.
        raise SpecError(
            {"name": f"a dashboard named {fields['name']!r} exists already; choose another name."}
        )
    fields["slug"] = unique_slug(fields["slug"] or fields["name"])
    dashboard = Dashboard.objects.create(owner=owner, **fields)
    Widget.objects.bulk_create(
        Widget(dashboard=dashboard, **{**w, "position": w["position"] or i})
        for i, w in enumerate(widgets)
    )
    return dashboard


@transaction.atomic
def reorder_widgets(dashboard: Dashboard, widget_ids: list[int]) -> None:
    """Set positions from an ordered list of this dashboard's widget ids."""
    widgets = {w.pk: w for w in dashboard.widgets.all()}
    unknown = [i for i in widget_ids if i not in widgets]
    if unknown or len(set(widget_ids)) != len(widget_ids):
        raise ValueError(f"order must list this dashboard's widget ids once each; bad: {unknown}")
    rest = [pk for pk in widgets if pk not in widget_ids]
    for position, pk in enumerate([*widget_ids, *rest]):
        widgets[pk].position = position
    Widget.objects.bulk_update(widgets.values(), ["position"])
