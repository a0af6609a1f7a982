"""Weddings at risk right now, worst first, each with its reasons in words.

A live wedding is touched by:
- an open incident naming it, or naming its venue;
- an active (firing or pending) alert whose labels point at it: `wedding` (id or couple
  name), `venue` (id or exact name), `supplier` (id or exact name: that supplier's
  weddings), `region` (code); an alert with none of these labels is platform-wide and
  touches every live wedding;
- its venue on the degraded connectivity profile.

Plain functions over plain data, so the ranking is tested without HTTP; the page and the API
call weddings_at_risk().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.alerts.models import ACTIVE_STATES, Alert, Incident, Severity

SCOPE_LABELS = ("wedding", "venue", "supplier", "region")

# How much each reason weighs: an incident on the wedding outranks anything an alert says.
WEIGHTS = {
    "incident_wedding": 100,
    "incident_venue": 80,
    ("firing", Severity.CRITICAL): 40,
    ("firing", Severity.WARNING): 15,
    ("firing", Severity.INFO): 3,
    ("pending", Severity.CRITICAL): 8,
    ("pending", Severity.WARNING): 4,
    ("pending", Severity.INFO): 1,
    "venue_degraded": 30,
}
PLATFORM_SHARE = 0.5  # a platform-wide alert weighs half as much as one aimed at the wedding


@dataclass
class LiveWedding:
    """What matching needs to know about one live wedding."""

    id: int
    couple_name: str
    venue_id: int
    venue_name: str
    venue_timezone: str
    region: str
    degraded: bool
    starts_at: datetime
    ends_at: datetime
    supplier_ids: set[int] = field(default_factory=set)
    supplier_names: set[str] = field(default_factory=set)


def _same(value: Any, pk: int, name: str) -> bool:
    text = str(value)
    return text == str(pk) or text == name


def alert_touches(labels: dict, wedding: LiveWedding) -> bool:
    """Does an alert with these labels concern this wedding? Every scope label present must
    agree (an alert on venue A in region B touches neither venue C nor region D)."""
    checks = []
    if "wedding" in labels:
        checks.append(_same(labels["wedding"], wedding.id, wedding.couple_name))
    if "venue" in labels:
        checks.append(_same(labels["venue"], wedding.venue_id, wedding.venue_name))
    if "supplier" in labels:
        value = str(labels["supplier"])
        checks.append(
            value in {str(pk) for pk in wedding.supplier_ids} or value in wedding.supplier_names
        )
    if "region" in labels:
        checks.append(str(labels["region"]) == wedding.region)
    return all(checks)


def is_platform_wide(labels: dict) -> bool:
    return not any(name in labels for name in SCOPE_LABELS)


def load_live(at: datetime | None = None) -> list[LiveWedding]:
    from apps.weddings.live import live_weddings

    rows = list(live_weddings(at).prefetch_related("suppliers")[:500])
    return [
        LiveWedding(
            id=w.pk,
            couple_name=w.couple_name,
            venue_id=w.venue_id,
            venue_name=w.venue.name,
            venue_timezone=w.venue.timezone,
            region=w.venue.region.code,
            degraded=w.venue.degraded,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            supplier_ids={s.pk for s in w.suppliers.all()},
            supplier_names={s.name for s in w.suppliers.all()},
        )
        for w in rows
    ]


def touched_weddings(labels: dict, live: list[LiveWedding]) -> list[LiveWedding]:
    return [w for w in live if alert_touches(labels, w)]


def _alert_reason(alert: Alert, platform: bool) -> dict:
    rule = alert.rule
    value = "—" if alert.value is None else f"{alert.value:g}"
    threshold = "" if alert.threshold is None else f" (threshold {alert.threshold:g})"
    where = "platform-wide " if platform else ""
    weight = WEIGHTS.get((alert.state, rule.severity), 1)
    return {
        "kind": "alert",
        "severity": rule.severity,
        "weight": weight * (PLATFORM_SHARE if platform else 1),
        "text": f"{where}{rule.severity} alert “{rule.name}” {alert.state}: {value}{threshold}",
        "alert": alert.pk,
        "url": f"/alerts/{alert.pk}/",
    }


def weddings_at_risk(at: datetime | None = None) -> list[dict]:
    """Live weddings with at least one reason, worst first (then the soonest to start)."""
    at = at or timezone.now()
    live = load_live(at)
    if not live:
        return []
    reasons: dict[int, list[dict]] = {w.id: [] for w in live}
    by_venue: dict[int, list[LiveWedding]] = {}
    for w in live:
        by_venue.setdefault(w.venue_id, []).append(w)
    incidents = Incident.objects.filter(status=Incident.Status.OPEN).select_related("venue")
    for incident in incidents:
        link = f"/alerts/incidents/#incident-{incident.pk}"
        if incident.wedding_id is None and incident.venue_id is None:
            for w in live:  # a platform-wide emergency touches every live wedding
                reasons[w.id].append(
                    {
                        "kind": "incident",
                        "severity": "critical",
                        "weight": WEIGHTS["incident_venue"] * PLATFORM_SHARE,
                        "text": f"platform-wide open incident #{incident.pk}: {incident.title}",
                        "incident": incident.pk,
                        "url": link,
                    }
                )
            continue
        if incident.wedding_id is not None and incident.wedding_id in reasons:
            reasons[incident.wedding_id].append(
                {
                    "kind": "incident",
                    "severity": "critical",
                    "weight": WEIGHTS["incident_wedding"],
                    "text": f"open incident #{incident.pk}: {incident.title}",
                    "incident": incident.pk,
                    "url": link,
                }
            )
        for w in by_venue.get(incident.venue_id or 0, []):
            if w.id == incident.wedding_id:
                continue
            reasons[w.id].append(
                {
                    "kind": "incident",
                    "severity": "critical",
                    "weight": WEIGHTS["incident_venue"],
                    "text": f"open incident #{incident.pk} at its venue: {incident.title}",
                    "incident": incident.pk,
                    "url": link,
                }
            )
    for alert in Alert.objects.filter(state__in=ACTIVE_STATES).select_related("rule"):
        platform = is_platform_wide(alert.labels)
        for w in touched_weddings(alert.labels, live):
            reasons[w.id].append(_alert_reason(alert, platform))
    for w in live:
        if w.degraded:
            reasons[w.id].append(
                {
                    "kind": "venue_degraded",
                    "severity": "warning",
                    "weight": WEIGHTS["venue_degraded"],
                    "text": f"{w.venue_name} is on its degraded connectivity profile",
                    "url": "",
                }
            )
    out = []
    for w in live:
        found = sorted(reasons[w.id], key=lambda r: -r["weight"])
        if not found:
            continue
        out.append(
            {
                "id": w.id,
                "couple_name": w.couple_name,
                "venue": w.venue_id,
                "venue_name": w.venue_name,
                "venue_timezone": w.venue_timezone,
                "region": w.region,
                "starts_at": w.starts_at.isoformat(),
                "ends_at": w.ends_at.isoformat(),
                "score": round(sum(r["weight"] for r in found), 1),
                "reasons": found,
                "summary": found[0]["text"],
            }
        )
    out.sort(key=lambda r: (-r["score"], r["starts_at"], r["id"]))
    return out


def weddings_for_labels(labels: dict, live: list[LiveWedding] | None = None) -> list[dict]:
    """The live weddings an alert with these labels touches (for the alert's own page)."""
    live = load_live() if live is None else live
    return [
        {"id": w.id, "couple_name": w.couple_name, "venue_name": w.venue_name}
        for w in touched_weddings(labels, live)
    ]
