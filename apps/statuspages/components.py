"""The components of a wedding's page and their five states.

One component per supplier on the wedding (its app's live gateway connections), the venue's
connectivity, and the WedSync services the day depends on (realtime updates, uploads, API).
Incidents and maintenance (already scoped to the wedding) raise a component's state; the
worst reason wins, and every state carries words saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from apps.alerts.models import EmergencyType
from apps.statuspages import gateway
from apps.statuspages.incidents import PublicIncident
from apps.statuspages.maintenance import Occurrence
from apps.weddings.live import live_window
from apps.weddings.models import Wedding
from apps.weddings.profiles import profile_for_venue

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"
STATES = (OPERATIONAL, DEGRADED, PARTIAL, MAJOR, MAINTENANCE)
# A real outage outranks planned maintenance.
RANK = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}
LABELS = {
    OPERATIONAL: "Operational",
    DEGRADED: "Degraded performance",
    PARTIAL: "Partial outage",
    MAJOR: "Major outage",
    MAINTENANCE: "Under maintenance",
}
# Remembered so an app that drops before the wedding goes live still shows as an outage.
SEEN_SECONDS = 15 * 60

SERVICES = {
    "realtime": ("Live updates", "Timeline changes, check-ins and arrivals reaching the apps."),
    "uploads": ("Photo and file uploads", "Uploading photos and files to the wedding."),
    "api": ("WedSync API", "The service the apps read and write the wedding through."),
}
CONNECTIVITY_WORDS = {
    "good": "Good signal expected (venue Wi-Fi).",
    "fair": "Fair signal expected: updates may arrive a moment late.",
    "poor": "Poor signal expected: apps batch updates and catch up after a drop.",
}


@dataclass
class Component:
    key: str
    name: str
    status: str
    description: str
    position: int

    def raise_to(self, status: str, why: str) -> None:
        if RANK[status] > RANK[self.status]:
            self.status, self.description = status, why


def _seen_key(supplier_id: int) -> str:
    return f"statuspages:seen:{supplier_id}"


def _local(at: datetime, wedding: Wedding) -> str:
    return at.astimezone(wedding.venue.tz).strftime("%H:%M")


def build(
    wedding: Wedding,
    suppliers: list,
    incidents: list[PublicIncident],
    maintenance: list[Occurrence],
    now: datetime,
) -> list[Component]:
    components = _supplier_components(wedding, suppliers, now)
    components.append(_venue_component(wedding, len(components)))
    breaker = None
    try:
        breaker = gateway.breaker_open()
    except gateway.GatewayUnknown:
        breaker = True
    for i, (key, (name, words)) in enumerate(SERVICES.items()):
        component = Component(key, name, OPERATIONAL, words, len(components) + i)
        if key == "realtime" and breaker:
            component.raise_to(MAJOR, "Live updates are paused; apps will catch up on reconnect.")
        components.append(component)
    by_key = {c.key: c for c in components}
    for item in incidents:
        if not item.open:
            continue
        status = _incident_state(item)
        for key in item.components:
            if key in by_key:
                by_key[key].raise_to(status, f"{item.name}: see the incident below.")
    for occurrence in maintenance:
        if occurrence.status(now) != "in_progress":
            continue
        until = _local(occurrence.ends_at, wedding)
        for key in occurrence.components:
            if key in by_key:
                by_key[key].raise_to(MAINTENANCE, f"Scheduled maintenance until {until}.")
    return components


def _incident_state(item: PublicIncident) -> str:
    kind = item.incident.emergency_type
    if kind == EmergencyType.VENUE_NETWORK_FAILURE and "venue" in item.components:
        return MAJOR
    return PARTIAL if item.impact == "major" else DEGRADED


def _supplier_components(wedding: Wedding, suppliers: list, now: datetime) -> list[Component]:
    ids = [s.pk for s in suppliers]
    try:
        counts: dict[int, int] | None = gateway.supplier_connections(ids)
    except gateway.GatewayUnknown:
        counts = None
    start, end = live_window(wedding)
    live = start <= now < end
    found = []
    for position, supplier in enumerate(suppliers):
        name = f"{supplier.name} app"
        if counts is None:
            found.append(
                Component(
                    f"supplier:{supplier.pk}",
                    name,
                    DEGRADED,
                    "Connection state unavailable just now.",
                    position,
                )
            )
            continue
        if counts.get(supplier.pk, 0) > 0:
            cache.set(_seen_key(supplier.pk), now.timestamp(), SEEN_SECONDS)
            status, words = OPERATIONAL, "Connected and receiving live updates."
        else:
            seen = cache.get(_seen_key(supplier.pk))
            if seen:
                since = datetime.fromtimestamp(float(seen), tz=now.tzinfo)
                status = MAJOR
                words = f"App disconnected (last connected {_local(since, wedding)})."
            elif live:
                status, words = MAJOR, "App not connected."
            else:
                start_local = _local(start, wedding)
                status = OPERATIONAL
                words = f"Not connected yet: apps connect from {start_local} on the day."
        found.append(Component(f"supplier:{supplier.pk}", name, status, words, position))
    return found


def _venue_component(wedding: Wedding, position: int) -> Component:
    venue = wedding.venue
    profile = profile_for_venue(venue)
    component = Component(
        "venue",
        f"Connectivity at {venue.name}",
        OPERATIONAL,
        CONNECTIVITY_WORDS.get(profile.connectivity, CONNECTIVITY_WORDS["fair"]),
        position,
    )
    if venue.degraded:
        component.raise_to(
            DEGRADED, "Low-signal mode: updates are batched and caught up after a drop."
        )
    return component


def overall(components: list[Component]) -> tuple[str, str]:
    """Statuspage's page status: (indicator, description)."""
    worst = max((c.status for c in components), key=RANK.__getitem__, default=OPERATIONAL)
    return {
        OPERATIONAL: ("none", "All systems operational"),
        MAINTENANCE: ("maintenance", "Service under maintenance"),
        DEGRADED: ("minor", "Minor service disruption"),
        PARTIAL: ("major", "Partial system outage"),
        MAJOR: ("critical", "Major service outage"),
    }[worst]
