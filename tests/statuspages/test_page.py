"""What the page and its JSON show: Statuspage's summary shape, the five component states,
incidents and maintenance that touch this wedding only, and nothing that must not leak."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from apps.alerts import emergencies
from apps.alerts.models import MaintenanceWindow
from apps.statuspages import incidents
from apps.statuspages.components import STATES

pytestmark = pytest.mark.django_db


def _summary(world) -> dict:
    answer = Client().get(f"/status/{world.token}/summary.json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    return answer.json()


def test_summary_has_statuspage_shape(world):
    s = _summary(world)
    assert set(s) >= {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert {"id", "name", "url", "time_zone", "updated_at"} <= set(s["page"])
    assert s["status"] == {"indicator": "critical", "description": "Major service outage"}
    names = [c["name"] for c in s["components"]]
    assert names == [
        f"{world.suppliers[0].name} app",
        f"{world.suppliers[1].name} app",
        f"Connectivity at {world.wedding.venue.name}",
        "Live updates",
        "Photo and file uploads",
        "WedSync API",
    ]
    for component in s["components"]:
        assert {"id", "name", "status", "position", "description", "page_id"} <= set(component)
        assert component["status"] in STATES
    by_name = {c["name"]: c for c in s["components"]}
    # The wedding is live and no supplier app is connected: those are outages, said in words.
    supplier = by_name[f"{world.suppliers[0].name} app"]
    assert supplier["status"] == "major_outage"
    assert supplier["description"] == "App not connected."
    assert by_name["WedSync API"]["status"] == "operational"
    # A beach: poor signal expected, still operational.
    assert "Poor signal" in by_name[f"Connectivity at {world.wedding.venue.name}"]["description"]
    wedding = s["wedding"]
    assert wedding["couple"] == world.wedding.couple_name
    assert wedding["time_zone"] == "Europe/London"
    ceremony = next(item for item in wedding["schedule"] if item["name"] == "Ceremony")
    assert ceremony["local"] == world.wedding.ceremony_time.strftime("%H:%M")


def test_wedding_not_yet_live_shows_apps_as_not_connected_yet():
    from tests.statuspages.conftest import make_world

    world = make_world(live=False, days_ahead=1)
    # The page is open from the day before: tomorrow's wedding.
    s = _summary(world)
    supplier = s["components"][0]
    assert supplier["status"] == "operational"
    assert supplier["description"].startswith("Not connected yet")


def test_incident_at_the_venue_appears_with_a_plain_words_timeline(world, operator_user):
    incident = emergencies.trigger(
        "venue_network_failure",
        wedding=world.wedding,
        user=operator_user,
        reason="core switch sw-3.int.wedsync.local down",
    )
    incidents.post_update(incident, "identified", "The venue's router is being restarted.")
    s = _summary(world)
    assert len(s["incidents"]) == 1
    item = s["incidents"][0]
    assert item["name"] == f"Venue network problem at {world.wedding.venue.name}"
    assert item["status"] == "identified"
    assert item["impact"] == "major"
    bodies = [u["body"] for u in item["incident_updates"]]
    assert bodies[0] == "The venue's router is being restarted."  # newest first
    assert any(b.startswith("We are investigating") for b in bodies)
    assert any("low-signal mode" in b for b in bodies)
    venue = next(c for c in s["components"] if c["name"].startswith("Connectivity"))
    assert venue["status"] == "major_outage"
    text = json.dumps(s)
    # Internal words stay internal: the reason, the operator, who was called.
    assert "sw-3" not in text and operator_user.username not in text
    assert "Notified" not in text
    emergencies.resolve(incident.pk, user=operator_user, note="fixed by oscar")
    s = _summary(world)
    assert s["incidents"][0]["status"] == "resolved"
    assert "fixed by oscar" not in json.dumps(s)
    venue = next(c for c in s["components"] if c["name"].startswith("Connectivity"))
    assert venue["status"] == "operational"


def test_only_incidents_touching_this_wedding(world):
    other_venue = world.other.venue  # same region, another venue
    emergencies.trigger("venue_network_failure", venue=other_venue, reason="x")
    emergencies.trigger("coordination_failure", wedding=world.other, reason="y")
    assert _summary(world)["incidents"] == []
    # A platform problem at another venue of the region touches this wedding, without naming it.
    emergencies.trigger("latency_spike", venue=other_venue, reason="z")
    s = _summary(world)
    assert [i["name"] for i in s["incidents"]] == ["Slow live updates in UK South"]
    realtime = next(c for c in s["components"] if c["name"] == "Live updates")
    assert realtime["status"] == "degraded_performance"
    # Platform-wide (no venue, no wedding).
    emergencies.trigger("service_degradation", reason="db")
    names = [i["name"] for i in _summary(world)["incidents"]]
    assert "WedSync service problem across WedSync" in names
    # A coordination failure at another wedding that shares a supplier names the supplier.
    world.other.suppliers.add(world.suppliers[0])
    names = [i["name"] for i in _summary(world)["incidents"]]
    assert f"Updates not reaching suppliers' apps for {world.suppliers[0].name}" in names


def test_maintenance_on_the_day_is_shown_and_internal_windows_are_not(world):
    now_local = dt.datetime.now(dt.UTC).astimezone(world.wedding.venue.tz)
    start = (now_local - dt.timedelta(minutes=10)).time().replace(second=0, microsecond=0)
    MaintenanceWindow.objects.create(
        name="db-primary.internal failover",
        matchers={"service": "uploads"},
        timezone="Europe/London",
        start_time=start,
        duration_minutes=60,
    )
    MaintenanceWindow.objects.create(
        name="mute noisy rule",
        matchers={"alertname": "Gateway p99 latency high"},
        timezone="Europe/London",
        start_time=start,
        duration_minutes=60,
    )
    MaintenanceWindow.objects.create(
        name="other venue",
        matchers={"venue": str(world.other.venue_id)},
        timezone="Europe/London",
        start_time=start,
        duration_minutes=60,
    )
    s = _summary(world)
    assert [m["name"] for m in s["scheduled_maintenances"]] == [
        "Scheduled maintenance: Photo and file uploads"
    ]
    assert s["scheduled_maintenances"][0]["status"] == "in_progress"
    uploads = next(c for c in s["components"] if c["name"] == "Photo and file uploads")
    assert uploads["status"] == "under_maintenance"
    assert "internal" not in json.dumps(s)


def test_page_and_json_leak_nothing_else(world, settings):
    world.wedding.venue.address = "1 Private Lane, Hove"
    world.wedding.venue.save()
    page = Client().get(f"/status/{world.token}/").content.decode()
    data = Client().get(f"/status/{world.token}/summary.json").content.decode()
    for text in (page, data):
        assert world.other.couple_name not in text
        assert world.other.venue.name not in text
        assert "Hidden Caterers" not in text
        assert "Private Lane" not in text  # the venue's address is not on the page
        for token in world.supplier_tokens:
            assert token not in text and token[:10] not in text
        for host in ("127.0.0.1", "localhost", "redis", "postgres", "6379", "5432"):
            assert host not in text
        # No database ids of suppliers or weddings either.
        assert f'"{world.suppliers[0].pk}"' not in text


def test_xss_in_any_displayed_field_is_inert(world, operator_user):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    world.wedding.couple_name = "Sam " + evil
    world.wedding.save()
    world.wedding.venue.name = "Chapel " + evil
    world.wedding.venue.save()
    world.suppliers[0].name = "Lens " + evil
    world.suppliers[0].save()
    incident = emergencies.trigger("venue_network_failure", wedding=world.wedding, reason=evil)
    incidents.post_update(incident, "monitoring", "Update " + evil)
    page = Client().get(f"/status/{world.token}/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The only scripts on the page are ours, from our static files.
    assert page.count("<script") == 2
    data = Client().get(f"/status/{world.token}/summary.json").json()
    assert data["wedding"]["couple"] == "Sam " + evil  # JSON carries the text as text
