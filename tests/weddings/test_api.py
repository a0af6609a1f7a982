"""The calendar API: permissions by role, filters, bad input, overlaps, freeze, tokens."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.weddings.models import FreezeOverride, Region, Supplier, Venue, Wedding

pytestmark = pytest.mark.django_db


def supplier_client(supplier: Supplier) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {supplier.issue_token()}")
    return client


def wedding_body(venue_, **over) -> dict:
    body = {
        "date": "2027-06-12",
        "ceremony_time": "15:00",
        "reception_end_time": "23:00",
        "venue": venue_.pk,
        "couple_name": "Ada & Grace",
        "expected_guests": 120,
    }
    body.update(over)
    return body


# --- permissions ----------------------------------------------------------------------


def test_operator_reads_but_cannot_write(operator_api, make_venue, make_wedding):
    venue = make_venue()
    make_wedding(venue=venue)
    for url in ("/api/v1/weddings/", "/api/v1/venues/", "/api/v1/regions/",
                "/api/v1/suppliers/", "/api/v1/contacts/", "/api/v1/insights/"):  # fmt: skip
        assert operator_api.get(url).status_code == 200, url
    response = operator_api.post("/api/v1/weddings/", wedding_body(venue), format="json")
    assert response.status_code == 403
    assert operator_api.post("/api/v1/suppliers/", {"name": "X"}).status_code == 403
    assert operator_api.delete(f"/api/v1/venues/{venue.pk}/").status_code == 403


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/weddings/").status_code == 401


def test_admin_writes(admin_api, make_venue):
    venue = make_venue("garden")
    response = admin_api.post("/api/v1/weddings/", wedding_body(venue), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["region"] == "us-northeast" and body["venue_type"] == "garden"
    assert body["expected_connections"] == 47  # ceil(42 × 1.1)
    assert "120 guests" in body["expected_connections_explained"]
    # 15:00 EDT = 19:00Z; live from two hours before.
    assert body["starts_at"].startswith("2027-06-12T19:00")
    assert body["live_from"].startswith("2027-06-12T17:00")


def test_supplier_token_sees_only_its_weddings_and_is_refused_the_admin_api(
    make_supplier, make_wedding
):
    mine, theirs = make_supplier("Mine"), make_supplier("Theirs")
    w1 = make_wedding()
    w2 = make_wedding()
    w1.suppliers.add(mine)
    w2.suppliers.add(theirs)
    client = supplier_client(mine)
    listed = client.get("/api/v1/weddings/").json()
    assert [w["id"] for w in listed["results"]] == [w1.pk]
    assert client.get(f"/api/v1/weddings/{w1.pk}/").status_code == 200
    assert client.get(f"/api/v1/weddings/{w2.pk}/").status_code == 404
    assert client.post("/api/v1/weddings/", {}, format="json").status_code == 403
    assert client.delete(f"/api/v1/weddings/{w1.pk}/").status_code == 403
    # Its own supplier record it may read; nobody else's, and no list.
    assert client.get(f"/api/v1/suppliers/{mine.pk}/").json()["name"] == "Mine"
    assert client.get(f"/api/v1/suppliers/{theirs.pk}/").status_code == 404
    for url in ("/api/v1/suppliers/", "/api/v1/venues/", "/api/v1/regions/",
                "/api/v1/contacts/", "/api/v1/insights/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 403, url
        assert "own weddings" in response.json()["detail"]
    assert (
        client.patch(
            f"/api/v1/suppliers/{mine.pk}/", {"max_connections": 9999}, format="json"
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/suppliers/{mine.pk}/rotate-token/").status_code == 403


def test_revoked_or_garbage_supplier_token_is_401(make_supplier):
    supplier = make_supplier()
    client = APIClient()
    old = supplier.issue_token()
    supplier.issue_token()  # rotation revokes the old one
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/weddings/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token wss_nonsense")
    assert client.get("/api/v1/weddings/").status_code == 401


# --- supplier tokens and quotas -----------------------------------------------------


def test_supplier_token_issued_once_hashed_and_rotatable(admin_api, operator_api):
    created = admin_api.post(
        "/api/v1/suppliers/", {"name": "Lens & Light", "kind": "photographer"}, format="json"
    )
    assert created.status_code == 201, created.json()
    token = created.json()["token"]
    supplier = Supplier.objects.get(pk=created.json()["id"])
    assert supplier.max_connections == 250
    assert token not in (supplier.token_hash, supplier.token_hint)
    assert supplier.token_hash == Supplier.hash_token(token)
    shown = admin_api.get(f"/api/v1/suppliers/{supplier.pk}/").json()
    assert "token" not in shown and shown["token_hint"] == token[:10]
    assert operator_api.post(f"/api/v1/suppliers/{supplier.pk}/rotate-token/").status_code == 403
    rotated = admin_api.post(f"/api/v1/suppliers/{supplier.pk}/rotate-token/")
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != token
    assert Supplier.authenticate(token) is None
    assert Supplier.authenticate(new) == supplier


def test_lowering_quota_is_frozen_during_a_live_wedding(admin_api, make_supplier, make_wedding):
    supplier = make_supplier(max_connections=300)
    url = f"/api/v1/suppliers/{supplier.pk}/"
    assert admin_api.patch(url, {"max_connections": 280}, format="json").status_code == 200
    now = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(0))
    start = (now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    make_wedding(
        venue=None,
        day=start.date(),
        start=start.time(),
        end=(start + timedelta(hours=3)).time(),
        couple_name="Live Couple",
    )
    Venue.objects.update(timezone="UTC")
    for w in Wedding.objects.all():
        w.save()
    refused = admin_api.patch(url, {"max_connections": 200}, format="json")
    assert refused.status_code == 409
    assert "Live Couple" in refused.json()["detail"]
    assert refused.json()["live_weddings"][0]["couple_name"] == "Live Couple"
    supplier.refresh_from_db()
    assert supplier.max_connections == 280
    # Raising is always allowed; lowering with a reason is, and is audited.
    assert admin_api.patch(url, {"max_connections": 400}, format="json").status_code == 200
    allowed = admin_api.patch(
        url, {"max_connections": 200, "override_reason": "abusive client"}, format="json"
    )
    assert allowed.status_code == 200
    supplier.refresh_from_db()
    assert supplier.max_connections == 200
    audit = FreezeOverride.objects.get()
    assert audit.reason == "abusive client" and "max_connections" in audit.action
    # Deleting is frozen too.
    assert admin_api.delete(url).status_code == 409
    assert admin_api.delete(url + "?override_reason=gone").status_code == 204


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("date", "2027-02-30"),
        ("date", "next saturday"),
        ("ceremony_time", "25:00"),
        ("reception_end_time", "23:61"),
        ("expected_guests", -5),
        ("venue", 999999),
        ("status", "eloped"),
        ("suppliers", [999999]),
    ],
)
def test_bad_wedding_input_is_400_naming_the_field(admin_api, make_venue, field, value):
    venue = make_venue()
    response = admin_api.post(
        "/api/v1/weddings/", wedding_body(venue, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert not Wedding.objects.exists()


def test_unknown_timezone_and_region_are_400(admin_api, region):
    body = {"name": "Hall", "venue_type": "church", "region": region.code, "timezone": "Mars/Base"}
    response = admin_api.post("/api/v1/venues/", body, format="json")
    assert response.status_code == 400
    assert "Mars/Base" in response.json()["timezone"][0]
    body.update(timezone="America/Chicago", region="atlantis")
    response = admin_api.post("/api/v1/venues/", body, format="json")
    assert list(response.json()) == ["region"]
    body.update(region=region.code, venue_type="castle")
    assert list(admin_api.post("/api/v1/venues/", body, format="json").json()) == ["venue_type"]
    assert not Venue.objects.exists()


def test_region_with_bad_month_saves_nothing(admin_api):
    body = {
        "code": "eu-south",
        "name": "EU South",
        "timezone": "Europe/Rome",
        "months": [{"month": 6, "season": "peak", "multiplier": 1.0},
                   {"month": 13, "season": "peak", "multiplier": 1.0}],
    }  # fmt: skip
    response = admin_api.post("/api/v1/regions/", body, format="json")
    assert response.status_code == 400 and "months" in response.json()
    assert not Region.objects.filter(code="eu-south").exists()
    body["months"][1]["month"] = 7
    response = admin_api.post("/api/v1/regions/", body, format="json")
    assert response.status_code == 201
    assert len(response.json()["months"]) == 2


def test_overlap_is_400_naming_the_other_wedding_and_saves_nothing(
    admin_api, make_venue, make_supplier
):
    venue = make_venue(name="St Mary's")
    first = admin_api.post("/api/v1/weddings/", wedding_body(venue), format="json")
    assert first.status_code == 201
    supplier = make_supplier()
    clash = admin_api.post(
        "/api/v1/weddings/",
        wedding_body(
            venue, couple_name="Late", ceremony_time="22:00", reception_end_time="01:00",
            suppliers=[supplier.pk],
        ),
        format="json",
    )  # fmt: skip
    assert clash.status_code == 400
    assert "Ada & Grace" in clash.json()["venue"][0] and "St Mary" in clash.json()["venue"][0]
    assert Wedding.objects.count() == 1 and not supplier.weddings.exists()
    # Back to back is fine ([start, end) does not include the end), and so is another venue.
    ok = admin_api.post(
        "/api/v1/weddings/",
        wedding_body(venue, couple_name="Next", ceremony_time="23:00", reception_end_time="02:00"),
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    # Moving a wedding onto another's time is refused too.
    moved = admin_api.patch(
        f"/api/v1/weddings/{ok.json()['id']}/", {"ceremony_time": "20:00"}, format="json"
    )
    assert moved.status_code == 400 and "venue" in moved.json()
    # A cancelled wedding does not hold the venue.
    admin_api.patch(f"/api/v1/weddings/{first.json()['id']}/", {"status": "cancelled"})
    assert (
        admin_api.patch(
            f"/api/v1/weddings/{ok.json()['id']}/", {"ceremony_time": "20:00"}, format="json"
        ).status_code
        == 200
    )


# --- filters ---------------------------------------------------------------------------


def test_wedding_filters(operator_api, make_venue, make_wedding, make_supplier, west):
    ne_church = make_venue("church")
    la_beach = make_venue("beach", tz="America/Los_Angeles", reg=west)
    s = make_supplier()
    a = make_wedding(venue=ne_church, day=date(2027, 5, 1))
    b = make_wedding(venue=la_beach, day=date(2027, 6, 5), status="confirmed")
    c = make_wedding(venue=ne_church, day=date(2027, 7, 3))
    b.suppliers.add(s)
    c.suppliers.add(s)

    def ids(query: str) -> list[int]:
        response = operator_api.get(f"/api/v1/weddings/?{query}")
        assert response.status_code == 200, response.json()
        return [w["id"] for w in response.json()["results"]]

    assert ids("date_after=2027-05-02") == [b.pk, c.pk]
    assert ids("date_after=2027-05-01&date_before=2027-06-30") == [a.pk, b.pk]
    assert ids("region=us-west") == [b.pk]
    assert ids("venue_type=church") == [a.pk, c.pk]
    assert ids(f"supplier={s.pk}") == [b.pk, c.pk]
    assert ids("status=confirmed") == [b.pk]
    assert ids("status=planned&status=confirmed") == [a.pk, b.pk, c.pk]
    bad = operator_api.get("/api/v1/weddings/?date_after=soon&venue_type=castle")
    assert bad.status_code == 400
    assert set(bad.json()) == {"date_after", "venue_type"}


def test_contacts_scope_and_validation(admin_api, make_venue):
    venue = make_venue()
    ok = admin_api.post(
        "/api/v1/contacts/", {"name": "Venue manager", "phone": "+1 555 0100", "venue": venue.pk}
    )
    assert ok.status_code == 201 and ok.json()["scope"] == "venue"
    bad = admin_api.post("/api/v1/contacts/", {"name": "Nobody"})
    assert bad.status_code == 400 and "email" in bad.json()
    platform = admin_api.post("/api/v1/contacts/", {"name": "NOC", "email": "noc@wedsync.io"})
    assert platform.json()["scope"] == "platform"


def test_schema_is_valid(admin_api):
    response = admin_api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for p in ("/api/v1/weddings/", "/api/v1/suppliers/{id}/rotate-token/", "/api/v1/insights/"):
        assert p in paths


def test_escalation_chain_wedding_then_venue_then_platform(
    operator_api, make_wedding, make_supplier
):
    from apps.weddings.models import EmergencyContact

    w = make_wedding()
    other = make_wedding()
    EmergencyContact.objects.create(name="NOC", email="noc@x.io", order=0)
    EmergencyContact.objects.create(name="Manager", phone="1", venue=w.venue, order=0)
    EmergencyContact.objects.create(name="Planner", phone="2", wedding=w, order=1)
    EmergencyContact.objects.create(name="Best man", phone="3", wedding=w, order=0)
    EmergencyContact.objects.create(name="Elsewhere", phone="4", wedding=other, order=0)
    response = operator_api.get(f"/api/v1/contacts/escalation/?wedding={w.pk}")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Best man", "Planner", "Manager", "NOC"]
    assert operator_api.get("/api/v1/contacts/escalation/").status_code == 400
    assert operator_api.get("/api/v1/contacts/escalation/?wedding=x").status_code == 400
    assert operator_api.get("/api/v1/contacts/escalation/?wedding=999999").status_code == 404
    supplier = make_supplier()
    w.suppliers.add(supplier)
    url = f"/api/v1/contacts/escalation/?wedding={w.pk}"
    assert supplier_client(supplier).get(url).status_code == 403


def test_cancelling_or_deleting_a_live_wedding_and_deleting_a_venue_are_frozen(
    admin_api, live_wedding, make_venue
):
    url = f"/api/v1/weddings/{live_wedding.pk}/"
    refused = admin_api.patch(url, {"status": "cancelled"}, format="json")
    assert refused.status_code == 409 and "Live Couple" in refused.json()["detail"]
    live_wedding.refresh_from_db()
    assert live_wedding.status == "planned"
    assert admin_api.delete(url).status_code == 409
    # Editing a live wedding otherwise (more guests) is not frozen.
    assert admin_api.patch(url, {"expected_guests": 150}, format="json").status_code == 200
    spare = make_venue(name="Spare Hall")
    assert admin_api.delete(f"/api/v1/venues/{spare.pk}/").status_code == 409
    assert (
        admin_api.delete(f"/api/v1/venues/{spare.pk}/?override_reason=duplicate entry").status_code
        == 204
    )
    ok = admin_api.patch(
        url, {"status": "cancelled", "override_reason": "couple postponed"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled"
    assert FreezeOverride.objects.count() == 2


@pytest.mark.parametrize("start,end", [("14:00", "13:00"), ("15:00", "15:00")])
def test_impossible_wedding_lengths_are_400_on_reception_end(admin_api, make_venue, start, end):
    response = admin_api.post(
        "/api/v1/weddings/",
        wedding_body(make_venue(), ceremony_time=start, reception_end_time=end),
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reception_end_time"], response.json()
    assert not Wedding.objects.exists()


def test_unknown_region_filter_is_400(operator_api, region):
    response = operator_api.get("/api/v1/weddings/?region=atlantis")
    assert response.status_code == 400 and list(response.json()) == ["region"]
    assert operator_api.get("/api/v1/venues/?region=atlantis").status_code == 400


def test_deleting_what_is_still_used_is_409_not_500(admin_api, make_wedding):
    w = make_wedding()
    venue = admin_api.delete(f"/api/v1/venues/{w.venue_id}/")
    assert venue.status_code == 409 and venue.json()["used_by"] == {"weddings": 1}
    region = admin_api.delete(f"/api/v1/regions/{w.venue.region.code}/")
    assert region.status_code == 409 and "venues" in region.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_timezone_fix_moves_back_to_back_weddings_together(admin_api, make_venue, make_wedding):
    venue = make_venue("garden", tz="America/Chicago")
    a = make_wedding(venue=venue, start=time(11, 0), end=time(15, 0))
    b = make_wedding(venue=venue, start=time(15, 0), end=time(23, 0))
    response = admin_api.patch(
        f"/api/v1/venues/{venue.pk}/", {"timezone": "America/New_York"}, format="json"
    )
    assert response.status_code == 200, response.json()
    a.refresh_from_db()
    b.refresh_from_db()
    # 11:00 EDT = 15:00Z (it was 16:00Z in Chicago); the local times did not change.
    assert a.starts_at.hour == 15 and a.ceremony_time == time(11, 0)
    assert b.starts_at == a.ends_at


def test_region_patch_with_incomplete_months_is_400(admin_api, region):
    url = f"/api/v1/regions/{region.code}/"
    response = admin_api.patch(
        url, {"months": [{"season": "peak", "multiplier": 0.5}]}, format="json"
    )
    assert response.status_code == 400 and "months" in response.json(), response.content
    response = admin_api.patch(url, {"timezone": "0"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["timezone"]
    response = admin_api.patch(
        url, {"months": [{"month": 2, "season": "peak", "multiplier": 0.5}]}, format="json"
    )
    assert response.status_code == 200
    assert {"month": 2, "season": "peak", "multiplier": 0.5} in response.json()["months"]
