"""Quota budget before the day: will a supplier's gateway quota hold its coming weddings?

A supplier's expected connections at any instant are the expected connections of its
weddings running then (Wedding.expected_connections: the guests' app plus the suppliers'
devices, with the venue's reconnect churn; every wedding a supplier serves connects through
its token). The peak over the coming hours is compared with its max_connections.

Operators see the shortfalls on the Wedding Day dashboard (with a one-click raise for
admins); the supplier is told by email (contact_email) and webhook (webhook_url) once 48 h
ahead and once 2 h ahead, each notice claimed in the delivery log so it is sent once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.alerts import conf, notify

STAGES = ((2, "2h"), (48, "48h"))  # most urgent first
HEADROOM = 1.1  # the suggested raise leaves 10 % above the expected peak


@dataclass
class Shortfall:
    supplier_id: int
    supplier_name: str
    max_connections: int
    expected: int
    peak_starts_at: datetime
    peak_ends_at: datetime
    weddings: list[dict] = field(default_factory=list)

    @property
    def overlapping(self) -> int:
        return len(self.weddings)

    @property
    def suggested_max(self) -> int:
        return math.ceil(self.expected * HEADROOM)

    def as_dict(self, now: datetime) -> dict:
        return {
            "supplier": self.supplier_id,
            "supplier_name": self.supplier_name,
            "max_connections": self.max_connections,
            "expected": self.expected,
            "shortfall": self.expected - self.max_connections,
            "overlapping": self.overlapping,
            "weddings": self.weddings,
            "peak_starts_at": self.peak_starts_at.isoformat(),
            "peak_ends_at": self.peak_ends_at.isoformat(),
            "hours_ahead": round((self.peak_starts_at - now).total_seconds() / 3600, 1),
            "suggested_max": self.suggested_max,
            "text": self.text(),
        }

    def text(self) -> str:
        per = ", ".join(f"{w['couple_name']} {w['expected_connections']}" for w in self.weddings)
        return (
            f"{self.supplier_name}: {self.overlapping} overlapping wedding(s) from "
            f"{self.peak_starts_at:%Y-%m-%d %H:%M} UTC expect {self.expected} connections "
            f"({per}); quota is {self.max_connections}. Raise it to at least {self.expected} "
            f"(suggested {self.suggested_max})."
        )


def peak(weddings: list[Any]) -> tuple[int, datetime | None, datetime | None, list[Any]]:
    """(connections, start, end, weddings) of the busiest stretch of overlapping weddings,
    by a sweep over their start and end instants."""
    events = []
    for w in weddings:
        events.append((w.starts_at, 1, w))
        events.append((w.ends_at, 0, w))  # ends sort before starts at the same instant
    events.sort(key=lambda e: (e[0], e[1]))
    running: dict[int, Any] = {}
    best: tuple[int, datetime | None, datetime | None, list[Any]] = (0, None, None, [])
    for i, (at, is_start, w) in enumerate(events):
        if is_start:
            running[w.pk] = w
        else:
            running.pop(w.pk, None)
        total = sum(x.expected_connections for x in running.values())
        if is_start and total > best[0]:
            end = min(x.ends_at for x in running.values())
            upcoming = [e[0] for e in events[i + 1 :] if e[1] == 1 and e[0] < end]
            end = min([end, *upcoming]) if upcoming else end
            best = (total, at, end, sorted(running.values(), key=lambda x: x.starts_at))
    return best


def shortfalls(now: datetime | None = None, hours: float = 48) -> list[Shortfall]:
    """Suppliers whose expected peak within the next `hours` exceeds their quota."""
    from apps.weddings.live import NOT_LIVE_STATUSES
    from apps.weddings.models import Supplier, Wedding

    now = now or timezone.now()
    horizon = now + timedelta(hours=hours)
    weddings = (
        Wedding.objects.exclude(status__in=NOT_LIVE_STATUSES)
        .filter(starts_at__lt=horizon, ends_at__gt=now)
        .select_related("venue")
        .prefetch_related("suppliers")
    )
    by_supplier: dict[int, list] = {}
    for w in weddings:
        for s in w.suppliers.all():
            by_supplier.setdefault(s.pk, []).append(w)
    out = []
    for supplier in Supplier.objects.filter(pk__in=by_supplier, is_active=True):
        expected, start, end, running = peak(by_supplier[supplier.pk])
        if expected <= supplier.max_connections or start is None:
            continue
        out.append(
            Shortfall(
                supplier_id=supplier.pk,
                supplier_name=supplier.name,
                max_connections=supplier.max_connections,
                expected=expected,
                peak_starts_at=max(start, now),
                peak_ends_at=end or start,
                weddings=[
                    {
                        "id": w.pk,
                        "couple_name": w.couple_name,
                        "venue": w.venue.name,
                        "expected_connections": w.expected_connections,
                    }
                    for w in running
                ],
            )
        )
    out.sort(key=lambda s: (s.peak_starts_at, -(s.expected - s.max_connections)))
    return out


def warn_suppliers(now: datetime | None = None) -> int:
    """Tell each supplier over budget, once per stage (48 h, then 2 h ahead). Returns the
    notices claimed."""
    from apps.weddings.models import Supplier

    now = now or timezone.now()
    claimed: list[int] = []
    with transaction.atomic():
        for gap in shortfalls(now, hours=STAGES[-1][0]):
            ahead = (gap.peak_starts_at - now).total_seconds() / 3600
            stage = next(name for hours, name in STAGES if ahead <= hours)
            supplier = Supplier.objects.get(pk=gap.supplier_id)
            subject = f"[WedSync] Connection quota too small in {stage}: {gap.supplier_name}"
            payload = {"event": "quota_budget", "stage": stage, **gap.as_dict(now)}
            payload["text"] = f"{gap.text()}\n{conf.PUBLIC_URL}/dashboards/wedding-day/"
            routes = [("email", supplier.contact_email), ("webhook", supplier.webhook_url)]
            for kind, target in routes:
                if not target:
                    continue
                key = f"quota:{supplier.pk}:{gap.peak_starts_at:%Y%m%d%H%M}:{stage}:{kind}"
                n = notify.claim(
                    key,
                    kind="quota",
                    channel_kind=kind,
                    target=target,
                    subject=subject[:300],
                    payload=payload,
                )
                if n:
                    claimed.append(n.pk)
        transaction.on_commit(lambda: notify.deliver_later(claimed))
    return len(claimed)
