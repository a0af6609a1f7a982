"""A wedding's page as data, in the shape of Statuspage's /api/v2/summary.json.

`page`, `status`, `components[]`, `incidents[]` (with `incident_updates[]`) and
`scheduled_maintenances[]` are Statuspage's; `wedding` (couple's display name, venue, date,
time zone, the run of the day) is ours. Identifiers are HMACs keyed per wedding, so nothing
on one page can be matched against another page or against the console's ids. Nothing here
is personal beyond the couple's display name, which they agreed to show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.statuspages import components as comps
from apps.statuspages import incidents as incs
from apps.statuspages import maintenance as maint
from apps.statuspages.links import window
from apps.weddings.live import live_window
from apps.weddings.models import Wedding


def public_id(wedding: Wedding, key: str) -> str:
    return salted_hmac("statuspages.id", f"{wedding.pk}:{key}").hexdigest()[:16]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


def schedule(wedding: Wedding) -> list[dict]:
    """The run of the day in the venue's local time."""
    tz = wedding.venue.tz
    ceremony = wedding.starts_at.astimezone(tz)
    ends = wedding.ends_at.astimezone(tz)
    apps_from = live_window(wedding)[0].astimezone(tz)
    return [
        {"name": "Suppliers' apps go live", "at": _iso(apps_from), "local": f"{apps_from:%H:%M}"},
        {"name": "Ceremony", "at": _iso(ceremony), "local": f"{ceremony:%H:%M}"},
        {"name": "Reception ends", "at": _iso(ends), "local": f"{ends:%H:%M}"},
    ]


def build(wedding: Wedding, page_url: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    start, end = window(wedding)
    suppliers = list(wedding.suppliers.order_by("name", "pk"))
    incidents = incs.touching(wedding, start, end)
    maintenance = maint.for_wedding(wedding, {s.pk for s in suppliers})
    components = comps.build(wedding, suppliers, incidents, maintenance, now)
    indicator, description = comps.overall(components)
    page_id = public_id(wedding, "page")
    by_key = {c.key: c for c in components}
    created = wedding.created_at or now
    component_rows = [
        {
            "id": public_id(wedding, c.key),
            "name": c.name,
            "status": c.status,
            "status_label": comps.LABELS[c.status],
            "description": c.description,
            "position": c.position,
            "created_at": _iso(created),
            "updated_at": _iso(created),
            "showcase": True,
            "start_date": wedding.date.isoformat(),
            "group_id": None,
            "page_id": page_id,
            "group": False,
            "only_show_if_degraded": False,
        }
        for c in components
    ]
    incident_rows = [_incident(wedding, item, by_key, page_id) for item in incidents]
    maintenance_rows = [
        _maintenance(wedding, o, by_key, page_id, now) for o in maintenance if o.ends_at > start
    ]
    stamps = [created]
    stamps += [u["at"] for item in incidents for u in item.updates]
    return {
        "page": {
            "id": page_id,
            "name": f"{wedding.couple_name}: wedding day status",
            "url": page_url,
            "time_zone": wedding.venue.timezone,
            "updated_at": _iso(max(stamps)),
        },
        "status": {"indicator": indicator, "description": description},
        "components": component_rows,
        "incidents": incident_rows,
        "scheduled_maintenances": maintenance_rows,
        "wedding": {
            "couple": wedding.couple_name,
            "venue": wedding.venue.name,
            "date": wedding.date.isoformat(),
            "time_zone": wedding.venue.timezone,
            "schedule": schedule(wedding),
            "page_open_from": _iso(start),
            "page_open_until": _iso(end),
        },
    }


def _affected(keys: list[str] | tuple, by_key: dict, wedding: Wedding) -> list[dict]:
    return [{"code": public_id(wedding, k), "name": by_key[k].name} for k in keys if k in by_key]


def _incident(wedding: Wedding, item: incs.PublicIncident, by_key: dict, page_id: str) -> dict:
    incident = item.incident
    iid = public_id(wedding, f"incident:{incident.pk}")
    affected = _affected(item.components, by_key, wedding)
    updates = [
        {
            "id": public_id(wedding, f"update:{u['key']}"),
            "status": u["status"],
            "body": u["body"],
            "incident_id": iid,
            "created_at": _iso(u["at"]),
            "updated_at": _iso(u["at"]),
            "display_at": _iso(u["at"]),
            "affected_components": affected,
        }
        for u in reversed(item.updates)  # Statuspage lists the newest update first
    ]
    monitoring = [u for u in item.updates if u["status"] == "monitoring"]
    return {
        "id": iid,
        "name": item.name,
        "status": item.status,
        "impact": item.impact,
        "created_at": _iso(incident.created_at),
        "updated_at": _iso(item.updates[-1]["at"] if item.updates else incident.created_at),
        "monitoring_at": _iso(monitoring[0]["at"]) if monitoring else None,
        "resolved_at": _iso(incident.resolved_at),
        "started_at": _iso(incident.created_at),
        "shortlink": None,
        "page_id": page_id,
        "incident_updates": updates,
        "components": affected,
    }


def _maintenance(wedding, occurrence: maint.Occurrence, by_key, page_id, now) -> dict:
    status = occurrence.status(now)
    names = [by_key[k].name for k in occurrence.components if k in by_key]
    when = int(occurrence.starts_at.timestamp())
    mid = public_id(wedding, f"maintenance:{occurrence.window_id}:{when}")
    tz = wedding.venue.tz
    body = (
        f"Planned maintenance of {', '.join(names)} from "
        f"{occurrence.starts_at.astimezone(tz):%H:%M} to {occurrence.ends_at.astimezone(tz):%H:%M}."
    )
    return {
        "id": mid,
        "name": "Scheduled maintenance: " + ", ".join(names),
        "status": status,
        "impact": "maintenance",
        "created_at": _iso(occurrence.starts_at),
        "updated_at": _iso(occurrence.starts_at),
        "monitoring_at": None,
        "resolved_at": _iso(occurrence.ends_at) if status == "completed" else None,
        "started_at": _iso(occurrence.starts_at),
        "scheduled_for": _iso(occurrence.starts_at),
        "scheduled_until": _iso(occurrence.ends_at),
        "shortlink": None,
        "page_id": page_id,
        "incident_updates": [
            {
                "id": mid + "u",
                "status": status,
                "body": body,
                "incident_id": mid,
                "created_at": _iso(occurrence.starts_at),
                "updated_at": _iso(occurrence.starts_at),
                "display_at": _iso(occurrence.starts_at),
                "affected_components": _affected(occurrence.components, by_key, wedding),
            }
        ],
        "components": _affected(occurrence.components, by_key, wedding),
    }
