"""What operators see about status pages (API and console pages share these)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.alerts.models import Incident
from apps.statuspages import incidents as incs
from apps.statuspages import links
from apps.statuspages.models import Delivery, StatusLink, Subscriber
from apps.weddings.models import Wedding


def _user(user) -> str | None:
    return user.get_username() if user else None


def link_state(wedding: Wedding) -> dict:
    now = timezone.now()
    start, end = links.window(wedding)
    link = (
        StatusLink.objects.filter(wedding=wedding, revoked_at__isnull=True)
        .select_related("created_by")
        .first()
    )
    if link is None:
        state = "none"
    elif now < start:
        state = "scheduled"
    elif now < end and wedding.status != Wedding.Status.CANCELLED:
        state = "live"
    else:
        state = "expired"
    return {
        "state": state,
        "valid_from": start,
        "expires_at": end,
        "issued_at": link.created_at if link else None,
        "issued_by": _user(link.created_by) if link else None,
        "links_issued": StatusLink.objects.filter(wedding=wedding).count(),
    }


def subscribers(wedding: Wedding) -> dict:
    rows = Subscriber.objects.filter(wedding=wedding).order_by("kind", "target")
    sent = Delivery.objects.filter(wedding=wedding).select_related("subscriber")[:50]
    return {
        "subscribers": [
            {
                "id": s.pk,
                "kind": s.kind,
                "target": s.target,
                "confirmed": s.confirmed_at is not None,
                "created_at": s.created_at,
                "last_sent_at": s.last_sent_at,
            }
            for s in rows
        ],
        "sent": [
            {
                "at": d.at,
                "to": d.subscriber.target,
                "kind": d.kind,
                "subject": d.subject,
                "changes": d.changes,
                "status": d.status,
                "error": d.error,
            }
            for d in sent
        ],
    }


def wedding_overview(wedding: Wedding) -> dict:
    return {
        "wedding": wedding.pk,
        "couple": wedding.couple_name,
        "date": wedding.date,
        "link": link_state(wedding),
        **subscribers(wedding),
    }


def pages_near(now=None) -> list[Wedding]:
    """Weddings with a link not revoked whose page is open or opens within three days."""
    now = now or timezone.now()
    ids = (
        StatusLink.objects.filter(revoked_at__isnull=True)
        .filter(
            wedding__date__gte=(now - timedelta(days=2)).date(),
            wedding__date__lte=(now + timedelta(days=3)).date(),
        )
        .values_list("wedding_id", flat=True)
    )
    return list(
        Wedding.objects.filter(pk__in=list(ids))
        .select_related("venue", "venue__region")
        .order_by("starts_at")
    )


def affected_open_pages(incident: Incident) -> list[dict]:
    """The weddings with a live page that this incident touches."""
    live = [w for w in pages_near() if link_state(w)["state"] == "live"]
    return [
        {"wedding": w.pk, "couple": w.couple_name, "venue": w.venue.name}
        for w in incs.affected_weddings(incident, live)
    ]


def board() -> list[dict]:
    """One row per wedding with a live or scheduled page, for the console."""
    rows = []
    for wedding in pages_near():
        state = link_state(wedding)
        if state["state"] not in ("live", "scheduled"):
            continue
        subs = Subscriber.objects.filter(wedding=wedding)
        rows.append(
            {
                "wedding": wedding,
                "link": state,
                "subscribers": subs.filter(confirmed_at__isnull=False).count(),
                "pending": subs.filter(confirmed_at__isnull=True).count(),
                "sent": Delivery.objects.filter(wedding=wedding, kind="changes").count(),
            }
        )
    return rows
