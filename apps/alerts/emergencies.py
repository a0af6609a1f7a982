"""Emergency protocols: four playbooks, triggered by a rule (emergency_type) or an operator.

Each playbook, in order: open an incident; notify the emergency contacts at once (the
wedding's, then the venue's, then platform-wide, each by their order); put the affected venue
on its degraded connectivity profile (Venue.degraded; the gateway applies it); ask the scaling
manager for emergency capacity. Every step lands on the incident's timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.alerts import conf, notify
from apps.alerts.events import announce_incident, incident_event
from apps.alerts.models import Alert, EmergencyType, Incident, IncidentEvent
from apps.scaling.emergency import request_emergency_capacity
from apps.weddings.models import EmergencyContact, Venue, Wedding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Playbook:
    title: str
    degrade_venue: bool
    capacity_minutes: int  # 0: do not ask for capacity
    advice: str


PLAYBOOKS: dict[str, Playbook] = {
    EmergencyType.VENUE_NETWORK_FAILURE: Playbook(
        "Venue network failure",
        True,
        conf.EMERGENCY_CAPACITY_MINUTES,
        "Venue connectivity lost: clients switched to the degraded profile (a heartbeat at "
        "least every 15 s to spot dead sockets, longer batching, a bigger replay buffer, slower "
        "reconnect backoff); expect reconnect storms when the network returns.",
    ),
    EmergencyType.LATENCY_SPIKE: Playbook(
        "Latency spike",
        True,
        conf.EMERGENCY_CAPACITY_MINUTES,
        "Delivery latency above limits: emergency capacity requested, batching widened.",
    ),
    EmergencyType.SERVICE_DEGRADATION: Playbook(
        "Service degradation",
        True,
        conf.EMERGENCY_CAPACITY_MINUTES,
        "A platform service is degraded: capacity requested; check the gateway breaker and cache.",
    ),
    EmergencyType.COORDINATION_FAILURE: Playbook(
        "Coordination failure",
        False,
        conf.EMERGENCY_CAPACITY_MINUTES // 2,
        "Suppliers are not receiving coordination updates: call the contacts in order.",
    ),
}


class EmergencyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def contacts_for(wedding: Wedding | None, venue: Venue | None) -> list[EmergencyContact]:
    """Wedding's contacts first, then the venue's, then platform-wide; each by `order`."""
    scoped = []
    if wedding is not None:
        scoped += list(EmergencyContact.objects.filter(wedding=wedding).order_by("order", "name"))
    if venue is not None:
        scoped += list(
            EmergencyContact.objects.filter(venue=venue, wedding__isnull=True).order_by(
                "order", "name"
            )
        )
    scoped += list(
        EmergencyContact.objects.filter(wedding__isnull=True, venue__isnull=True).order_by(
            "order", "name"
        )
    )
    return scoped


def set_degraded(venue_id: int, degraded: bool) -> None:
    """Put a venue on (or off) its degraded profile through save(), so its signals tell the
    gateway (which reloads delivery profiles at once) and the cache (venue bundles)."""
    venue = Venue.objects.get(pk=venue_id)
    if venue.degraded != degraded:
        venue.degraded = degraded
        venue.save(update_fields=["degraded"])


def _event(incident: Incident, kind: str, message: str, **data) -> None:
    IncidentEvent.objects.create(incident=incident, kind=kind, message=message[:500], data=data)


def trigger(
    emergency_type: str,
    *,
    wedding: Wedding | None = None,
    venue: Venue | None = None,
    alert: Alert | None = None,
    user=None,
    reason: str = "",
    source_key: str | None = None,
    until: datetime | None = None,
) -> Incident:
    """Run the playbook. Idempotent per source_key (one incident per alert episode)."""
    if emergency_type not in PLAYBOOKS:
        raise EmergencyError(
            "emergency_type",
            f"Unknown emergency type {emergency_type!r}; choose one of {', '.join(PLAYBOOKS)}.",
        )
    playbook = PLAYBOOKS[emergency_type]
    if venue is None and wedding is not None:
        venue = wedding.venue
    now = timezone.now()
    until = until or (now + timedelta(minutes=playbook.capacity_minutes))
    where = f" at {venue.name}" if venue else ""
    title = f"{playbook.title}{where}"
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                emergency_type=emergency_type,
                title=title[:200],
                reason=reason,
                wedding=wedding,
                venue=venue,
                alert=alert,
                source_key=source_key,
                triggered_by=user,
                capacity_until=until if playbook.capacity_minutes else None,
            )
            who = (
                f"operator {user.get_username()}"
                if user
                else f"alert #{alert.pk}"
                if alert
                else "system"
            )
            _event(incident, "triggered", f"{playbook.title} triggered by {who}: {reason or '—'}")
            _event(incident, "playbook", playbook.advice)
            claimed = _notify_contacts(incident, wedding, venue, playbook, reason)
            if venue is not None and playbook.degrade_venue:
                set_degraded(venue.pk, True)
                _event(
                    incident,
                    "venue_degraded",
                    f"{venue.name} switched to its degraded connectivity profile.",
                    venue=venue.pk,
                )
            announce_incident(incident)
            transaction.on_commit(lambda: notify.deliver_later(claimed))
    except IntegrityError:
        return Incident.objects.get(source_key=source_key)
    if playbook.capacity_minutes:
        _request_capacity(incident, f"{title}: {reason}" if reason else title, until)
    return incident


def _notify_contacts(incident, wedding, venue, playbook, reason) -> list[int]:
    contacts = contacts_for(wedding, venue)
    subject = f"[EMERGENCY] {incident.title}"
    text = "\n".join(
        x
        for x in [
            subject,
            reason,
            playbook.advice,
            f"Wedding: {wedding}" if wedding else "",
            f"{conf.PUBLIC_URL}/alerts/incidents/#incident-{incident.pk}",
        ]
        if x
    )
    claimed, skipped = [], []
    for contact in contacts:
        payload = {
            "event": "emergency",
            "incident": incident_event(incident)["incident"],
            "contact": contact.name,
            "text": text,
        }
        routes = [("email", contact.email), ("webhook", contact.webhook_url)]
        if not any(target for _, target in routes):
            number = contact.phone or "no phone number on record"
            skipped.append(f"{contact.name} ({number})")
        for kind, target in routes:
            if not target:
                continue
            n = notify.claim(
                f"i{incident.pk}:k{contact.pk}:{kind}",
                kind="emergency",
                channel_kind=kind,
                target=target,
                incident=incident,
                subject=subject[:300],
                payload=payload,
            )
            if n:
                claimed.append(n.pk)
    names = ", ".join(c.name for c in contacts) or "nobody (no contacts on record)"
    _event(
        incident,
        "contacts_notified",
        f"Notified {len(claimed)} route(s): {names}.",
        contacts=[c.pk for c in contacts],
    )
    if skipped:
        _event(
            incident,
            "contacts_unreachable",
            f"No email or webhook for: {', '.join(skipped)} — phone them.",
            contacts=skipped,
        )
    return claimed


def _request_capacity(incident: Incident, reason: str, until: datetime) -> None:
    try:
        result = request_emergency_capacity(reason, until)
    except Exception as exc:  # the incident stands even if scaling fails; the timeline says so
        log.exception("emergency capacity request failed")
        _event(incident, "capacity_failed", f"Emergency capacity request failed: {exc}"[:500])
        return
    decisions = result["decisions"]
    pools = ", ".join(f"{d['pool']} {d['current_units']}→{d['desired_units']}" for d in decisions)
    _event(
        incident,
        "capacity_requested",
        f"Emergency capacity requested until {until:%Y-%m-%d %H:%M} UTC "
        f"({len(decisions)} pool decision(s){': ' + pools if pools else ''}).",
        emergency_id=result["emergency_id"],
        decisions=[d["id"] for d in decisions],
    )


def _end_capacity(incident: Incident) -> None:
    """End the capacity requests this incident made (resolved: its surge is over)."""
    ids = [
        e.data.get("emergency_id")
        for e in incident.timeline.filter(kind="capacity_requested")
        if e.data.get("emergency_id")
    ]
    if not ids:
        return
    from apps.scaling.emergency import end_requests

    if end_requests(ids):
        _event(
            incident,
            "capacity_ended",
            "Emergency capacity ended: the pools return to what they ran before "
            "(never below need).",
            emergency_ids=ids,
        )


def trigger_from_alert(alert_id: int, episode: int) -> Incident | None:
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None or alert.episode != episode or not alert.rule.emergency_type:
        return None
    wedding = venue = None
    if alert.labels.get("wedding", "").isdigit():
        wedding = (
            Wedding.objects.filter(pk=int(alert.labels["wedding"])).select_related("venue").first()
        )
    if alert.labels.get("venue", "").isdigit():
        venue = Venue.objects.filter(pk=int(alert.labels["venue"])).first()
    value = "—" if alert.value is None else f"{alert.value:g}"
    return trigger(
        alert.rule.emergency_type,
        wedding=wedding,
        venue=venue,
        alert=alert,
        reason=f"Rule “{alert.rule.name}” firing (value {value}).",
        source_key=f"alert:{alert.pk}:{episode}",
    )


def resolve(incident_id: int, user=None, note: str = "") -> Incident:
    """Close the incident; its venue leaves the degraded profile unless another open incident
    still holds it there."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.status == Incident.Status.RESOLVED:
            raise EmergencyError("status", "This incident is already resolved.")
        incident.status = Incident.Status.RESOLVED
        incident.resolved_at = timezone.now()
        incident.save(update_fields=["status", "resolved_at"])
        who = user.get_username() if user else "system"
        _event(incident, "resolved", f"Resolved by {who}" + (f": {note}" if note else "."))
        _end_capacity(incident)
        if incident.venue_id:
            still = (
                Incident.objects.filter(Q(venue_id=incident.venue_id), status=Incident.Status.OPEN)
                .exclude(pk=incident.pk)
                .exists()
            )
            if not still:
                set_degraded(incident.venue_id, False)
                _event(incident, "venue_restored", "Venue back on its normal profile.")
        announce_incident(incident)
    return incident
