"""The page's view of a summary: local times as text, icons and labels for each state (the
browser script does the same from summary.json when it updates the page)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apps.statuspages.components import LABELS

# Shape + words: a state is never told by colour alone.
ICONS = {
    "operational": "✓",
    "degraded_performance": "◐",
    "partial_outage": "▲",
    "major_outage": "✕",
    "under_maintenance": "⚙",
}
INDICATOR_STATE = {
    "none": "operational",
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
    "maintenance": "under_maintenance",
}
INCIDENT_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
}


def _local(iso: str | None, tz: ZoneInfo, fmt: str = "%H:%M") -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(tz).strftime(fmt)


def view(summary: dict) -> dict:
    tz = ZoneInfo(summary["page"]["time_zone"])
    overall = INDICATOR_STATE[summary["status"]["indicator"]]
    wedding = summary["wedding"]
    day = datetime.fromisoformat(wedding["date"])
    return {
        "overall": {
            "state": overall,
            "icon": ICONS[overall],
            "text": summary["status"]["description"],
        },
        "date_text": f"{day:%A} {day.day} {day:%B %Y}",
        "components": [
            {**c, "icon": ICONS[c["status"]], "label": LABELS[c["status"]]}
            for c in summary["components"]
        ],
        "incidents": [_incident(i, tz) for i in summary["incidents"]],
        "maintenances": [
            {
                **_incident(m, tz),
                "window": f"{_local(m['scheduled_for'], tz)}–{_local(m['scheduled_until'], tz)}",
            }
            for m in summary["scheduled_maintenances"]
        ],
        "updated": _local(summary["page"]["updated_at"], tz),
    }


def _incident(item: dict, tz: ZoneInfo) -> dict:
    return {
        **item,
        "status_label": INCIDENT_LABELS.get(item["status"], item["status"]),
        "started": _local(item.get("started_at") or item.get("created_at"), tz),
        "updates": [
            {
                **u,
                "time": _local(u["display_at"], tz),
                "status_label": INCIDENT_LABELS.get(u["status"], u["status"]),
            }
            for u in item["incident_updates"]
        ],
    }
