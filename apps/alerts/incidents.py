"""Incident actions beside the playbooks: notes on the timeline, and who to phone."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.alerts.events import announce_incident
from apps.alerts.models import Incident, IncidentEvent

MAX_NOTE = 500


class NoteError(ValueError):
    pass


def add_note(incident_id: int, user: Any, text: str) -> IncidentEvent:
    """Append an operator's note to the incident's timeline (pushed to open pages)."""
    text = (text or "").strip()
    if not text:
        raise NoteError("Write the note first.")
    if len(text) > MAX_NOTE:
        raise NoteError(f"At most {MAX_NOTE} characters.")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        who = user.get_username() if user else "system"
        event = IncidentEvent.objects.create(
            incident=incident, kind="note", message=text, data={"by": who}
        )
        announce_incident(incident)
    return event


def contacts_to_phone(incident: Incident) -> list[dict]:
    """The emergency contacts of the incident in the playbook's order, with phone numbers:
    where the protocol says "phone them", the page shows whom and at which number."""
    from apps.alerts.emergencies import contacts_for

    wedding = incident.wedding
    venue = incident.venue or (wedding.venue if wedding else None)
    return [
        {
            "name": c.name,
            "role": c.role,
            "phone": c.phone,
            "email": c.email,
            "reachable_otherwise": bool(c.email or c.webhook_url),
        }
        for c in contacts_for(wedding, venue)
    ]
