"""Fixtures of the proof suite: two suppliers with weddings, and every kind of caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest


@dataclass
class Caller:
    """Someone calling the API: how they authenticate and what they should be allowed."""

    name: str
    headers: dict = field(default_factory=dict)
    user: object | None = None
    supplier: object | None = None


@dataclass
class World:
    supplier_a: object
    supplier_b: object
    token_a: str
    token_b: str
    wedding_a: object
    wedding_b: object
    callers: dict


@pytest.fixture
def world(make_user) -> World:
    from rest_framework.authtoken.models import Token

    from apps.weddings.models import Region, Supplier, Venue, Wedding

    region, _ = Region.objects.get_or_create(
        code="proof-uk", defaults={"name": "Proof UK", "timezone": "Europe/London"}
    )
    venues = [
        Venue.objects.create(name=name, venue_type=kind, region=region, timezone="Europe/London")
        for name, kind in (("St Proof's", "church"), ("Proof Gardens", "garden"))
    ]
    supplier_a = Supplier.objects.create(name="Alpha Photo", kind="photographer")
    supplier_b = Supplier.objects.create(name="Beta Catering", kind="caterer")
    token_a, token_b = supplier_a.issue_token(), supplier_b.issue_token()
    now = datetime.now(UTC)
    weddings = []
    pairs = ((supplier_a, "Ada & Alan", venues[0]), (supplier_b, "Bea & Bob", venues[1]))
    for supplier, couple, venue in pairs:
        wedding = Wedding.objects.create(
            date=now.date(),
            ceremony_time=(now - timedelta(minutes=30)).time().replace(microsecond=0),
            reception_end_time=(now + timedelta(hours=3)).time().replace(microsecond=0),
            venue=venue,
            couple_name=couple,
            status="in_progress",
        )
        wedding.suppliers.add(supplier)
        weddings.append(wedding)
    operator = make_user("matrix-operator", "operator")
    admin = make_user("matrix-admin", "admin")
    no_role = make_user("matrix-norole", None)

    def staff(user) -> dict:
        return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    callers = {
        "anonymous": Caller("anonymous"),
        "no_role": Caller("no_role", staff(no_role), user=no_role),
        "operator": Caller("operator", staff(operator), user=operator),
        "admin": Caller("admin", staff(admin), user=admin),
        "supplier": Caller(
            "supplier", {"HTTP_AUTHORIZATION": f"Token {token_a}"}, supplier=supplier_a
        ),
        "other_supplier": Caller(
            "other_supplier", {"HTTP_AUTHORIZATION": f"Token {token_b}"}, supplier=supplier_b
        ),
    }
    return World(supplier_a, supplier_b, token_a, token_b, weddings[0], weddings[1], callers)
