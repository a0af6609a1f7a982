"""Which incidents touch a wedding, and how each reads in public.

An incident touches a wedding when it is about the wedding itself or its venue; when it has
neither (platform-wide); when it is a platform problem (latency, service degradation) at a
venue in the wedding's region; or when its alert names one of the wedding's suppliers, or it
is a coordination failure at a wedding that shares a supplier with this one.

The incident's own title, reason and timeline are internal (other venues, contacts called,
operators' names, capacity decisions): the page shows a title of its own making, the
operators' public updates (PublicUpdate) and plain-words lines for the opening, the venue's
degraded mode and the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from apps.alerts.models import EmergencyType, Incident
from apps.statuspages.models import IncidentUpdateStatus, PublicUpdate
from apps.weddings.models import Wedding

REGIONAL_TYPES = (EmergencyType.LATENCY_SPIKE, EmergencyType.SERVICE_DEGRADATION)

PUBLIC_TITLES = {
    EmergencyType.VENUE_NETWORK_FAILURE: "Venue network problem",
    EmergencyType.LATENCY_SPIKE: "Slow live updates",
    EmergencyType.SERVICE_DEGRADATION: "WedSync service problem",
    EmergencyType.COORDINATION_FAILURE: "Updates not reaching suppliers' apps",
}
IMPACT = {
    EmergencyType.VENUE_NETWORK_FAILURE: "major",
    EmergencyType.LATENCY_SPIKE: "minor",
    EmergencyType.SERVICE_DEGRADATION: "major",
    EmergencyType.COORDINATION_FAILURE: "minor",
}
# The incident's own timeline, in words a couple or a photographer can act on. Kinds not
# listed (contacts notified, capacity requests...) stay internal.
PUBLIC_EVENTS = {
    "triggered": "We are investigating a problem{where}.",
    "venue_degraded": (
        "Apps at the venue switched to low-signal mode: updates may arrive in batches."
    ),
    "venue_restored": "The venue's connection is back to normal.",
    "resolved": "This incident has been resolved.",
}


@dataclass
class PublicIncident:
    incident: Incident
    scope: str  # wedding | venue | region | platform | supplier
    name: str
    status: str
    impact: str
    components: list[str]  # component keys (components.py)
    updates: list[dict] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.incident.status == Incident.Status.OPEN


def touching(wedding: Wedding, start: datetime, end: datetime) -> list[PublicIncident]:
    """Incidents open at some time in [start, end) that touch the wedding, newest first."""
    venue = wedding.venue
    supplier_ids = list(wedding.suppliers.values_list("pk", flat=True))
    shared = Wedding.objects.filter(suppliers__in=supplier_ids).values("pk")
    scope_q = (
        Q(wedding=wedding)
        | Q(venue=venue)
        | Q(wedding__isnull=True, venue__isnull=True)
        | Q(venue__region=venue.region_id, emergency_type__in=REGIONAL_TYPES)
        | Q(emergency_type=EmergencyType.COORDINATION_FAILURE, wedding__in=shared)
        | Q(alert__labels__supplier__in=[str(s) for s in supplier_ids])
    )
    rows = (
        Incident.objects.filter(scope_q)
        .filter(created_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .select_related("alert", "venue", "venue__region", "wedding")
        .prefetch_related("timeline", "public_updates")
        .distinct()
        .order_by("-created_at")[:20]
    )
    suppliers = {s.pk: s.name for s in wedding.suppliers.all()}
    return [_public(incident, wedding, suppliers) for incident in rows]


def _scope(incident: Incident, wedding: Wedding, suppliers: dict[int, str]) -> tuple[str, list]:
    if incident.wedding_id == wedding.pk:
        return "wedding", []
    if incident.venue_id == wedding.venue_id:
        return "venue", []
    if incident.wedding_id is None and incident.venue_id is None:
        return "platform", []
    labelled = (incident.alert.labels or {}).get("supplier") if incident.alert else None
    if labelled and labelled.isdigit() and int(labelled) in suppliers:
        return "supplier", [int(labelled)]
    if incident.emergency_type == EmergencyType.COORDINATION_FAILURE and incident.wedding_id:
        theirs = set(incident.wedding.suppliers.values_list("pk", flat=True))
        return "supplier", sorted(theirs & set(suppliers))
    return "region", []


def _components(incident: Incident, scope: str, supplier_ids: list[int]) -> list[str]:
    kind = incident.emergency_type
    if scope == "supplier" or kind == EmergencyType.COORDINATION_FAILURE:
        keys = [f"supplier:{s}" for s in supplier_ids]
        return keys or ["realtime"]
    if kind == EmergencyType.VENUE_NETWORK_FAILURE and scope in ("wedding", "venue"):
        return ["venue"]
    service = (incident.alert.labels or {}).get("service") if incident.alert else None
    if service in ("realtime", "uploads", "api"):
        return [service]
    return ["realtime"]


def _public(incident: Incident, wedding: Wedding, suppliers: dict[int, str]) -> PublicIncident:
    scope, supplier_ids = _scope(incident, wedding, suppliers)
    base = PUBLIC_TITLES.get(incident.emergency_type, "Service problem")
    where = {
        "wedding": f" at {wedding.venue.name}",
        "venue": f" at {wedding.venue.name}",
        "region": f" in {wedding.venue.region.name}",
        "platform": " across WedSync",
        "supplier": " for " + ", ".join(suppliers[s] for s in supplier_ids),
    }[scope]
    updates = _updates(incident, where)
    if incident.status == Incident.Status.RESOLVED:
        status = IncidentUpdateStatus.RESOLVED.value
    else:
        posted = [u for u in updates if u["source"] == "operator"]
        status = posted[-1]["status"] if posted else IncidentUpdateStatus.INVESTIGATING.value
        if status == IncidentUpdateStatus.RESOLVED:
            # Operators said resolved before the incident was closed: keep it honest.
            status = IncidentUpdateStatus.MONITORING.value
    return PublicIncident(
        incident=incident,
        scope=scope,
        name=f"{base}{where}",
        status=status,
        impact=IMPACT.get(incident.emergency_type, "minor"),
        components=_components(incident, scope, supplier_ids),
        updates=updates,
    )


def _updates(incident: Incident, where: str) -> list[dict]:
    """The public timeline, oldest first: plain-words events and operators' updates."""
    items: list[dict] = []
    state = IncidentUpdateStatus.INVESTIGATING.value
    for event in incident.timeline.all():
        text = PUBLIC_EVENTS.get(event.kind)
        if text is None:
            continue
        if event.kind == "resolved":
            state = IncidentUpdateStatus.RESOLVED.value
        items.append(
            {
                "key": f"e{event.pk}",
                "at": event.at,
                "status": state,
                "body": text.format(where=where),
                "source": "system",
            }
        )
    for update in incident.public_updates.all():
        items.append(
            {
                "key": f"u{update.pk}",
                "at": update.created_at,
                "status": update.status,
                "body": update.body,
                "source": "operator",
            }
        )
    items.sort(key=lambda item: (item["at"], item["key"]))
    return items


def affected_weddings(incident: Incident, weddings) -> list[Wedding]:
    """Of these weddings, the ones the incident touches (for operators posting an update)."""
    from apps.statuspages.links import window

    found = []
    for wedding in weddings:
        start, end = window(wedding)
        if any(p.incident.pk == incident.pk for p in touching(wedding, start, end)):
            found.append(wedding)
    return found


def post_update(incident: Incident, status: str, body: str, user=None) -> PublicUpdate:
    """An operator's public update: one row, shown on every affected wedding's page."""
    body = (body or "").strip()
    if status not in IncidentUpdateStatus.values:
        raise ValueError(
            f"status must be one of {', '.join(IncidentUpdateStatus.values)}, not {status!r}."
        )
    if not body:
        raise ValueError("body must not be empty.")
    if len(body) > 2000:
        raise ValueError("body is limited to 2000 characters.")
    return PublicUpdate.objects.create(
        incident=incident,
        status=status,
        body=body,
        created_by=user if getattr(user, "pk", None) else None,
    )
