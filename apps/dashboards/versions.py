"""Dashboard versions: every change is kept, any version can be restored.

One function records a change whatever made it (the API, the page, Django admin):
`changed(dashboard, user, note)`. The first change of a dashboard also keeps what it was
before (version 1), so the seeded layout can always be brought back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import Max

from apps.dashboards.models import Dashboard, DashboardVersion, Widget
from apps.dashboards.specs import clean_dashboard

KEEP = 200  # versions kept per dashboard (the oldest go first)


def _record(dashboard: Dashboard, user: Any, note: str) -> DashboardVersion:
    from apps.dashboards.services import export_dashboard

    last = dashboard.versions.aggregate(n=Max("number"))["n"] or 0
    version = DashboardVersion.objects.create(
        dashboard=dashboard,
        number=last + 1,
        document=export_dashboard(dashboard),
        note=note[:200],
        author=user if getattr(user, "pk", None) else None,
    )
    stale = dashboard.versions.order_by("-number").values_list("pk", flat=True)[KEEP:]
    DashboardVersion.objects.filter(pk__in=list(stale)).delete()
    return version


@contextmanager
def changing(dashboard: Dashboard, user: Any, note: str) -> Iterator[None]:
    """Wrap a change: keeps the state before it (once) and records the state after it."""
    with transaction.atomic():
        Dashboard.objects.select_for_update().filter(pk=dashboard.pk).first()
        if not dashboard.versions.exists():
            _record(dashboard, None, "before the first recorded change")
        yield
        _record(dashboard, user, note)


def changed(dashboard: Dashboard, user: Any, note: str) -> DashboardVersion:
    """Record the state after a change already saved (Django admin's save hooks)."""
    with transaction.atomic():
        return _record(dashboard, user, note)


@transaction.atomic
def restore(dashboard: Dashboard, number: int, user: Any) -> DashboardVersion:
    """Make the dashboard what version `number` was; recorded as a new version.

    Raises DashboardVersion.DoesNotExist for an unknown number."""
    version = dashboard.versions.get(number=number)
    fields, widgets = clean_dashboard(version.document)
    with changing(dashboard, user, f"restored version {number}"):
        for name in ("name", "description", "shared", "default_range", "tags"):
            setattr(dashboard, name, fields[name])
        dashboard.save()
        dashboard.widgets.all().delete()
        Widget.objects.bulk_create(
            Widget(dashboard=dashboard, **{**w, "position": w["position"] or i})
            for i, w in enumerate(widgets)
        )
    return dashboard.versions.latest("number")
