"""Quota budget before the day: a supplier whose overlapping weddings will need more
connections than its quota is shown to operators (with a one-click raise for admins) and told
by email and webhook 48 h and 2 h ahead, once each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.alerts import notify, quota_budget
from apps.alerts.models import Notification
from apps.weddings.models import Supplier, Wedding
from tests.conftest import login


def make_weddings(venue, supplier, starts_in_hours: float, n: int = 3) -> list[Wedding]:
    """n weddings of 200 guests each at their own venue copies, overlapping by an hour."""
    from apps.weddings.models import Venue

    out = []
    for i in range(n):
        place = Venue.objects.create(name=f"{venue.name} {i}", venue_type="church",
                                     region=venue.region, timezone=venue.timezone)  # fmt: skip
        local = (timezone.now() + timedelta(hours=starts_in_hours, minutes=20 * i)).astimezone(
            place.tz
        )
        end = local + timedelta(hours=3)
        w = Wedding.objects.create(
            date=local.date(), ceremony_time=local.time().replace(microsecond=0, second=0),
            reception_end_time=end.time().replace(microsecond=0, second=0), venue=place,
            couple_name=f"Couple {i}", expected_guests=200, status="confirmed",
        )  # fmt: skip
        w.suppliers.add(supplier)
        w.refresh_from_db()
        out.append(w)
    return out


@pytest.fixture
def busy_supplier(db, venue, receiver):
    supplier = Supplier.objects.create(name="Lens & Light", max_connections=150,
                                       contact_email="ops@lens.test",
                                       webhook_url=receiver.url)  # fmt: skip
    return supplier


@pytest.mark.django_db
def test_shortfall_names_the_numbers(busy_supplier, venue):
    weddings = make_weddings(venue, busy_supplier, starts_in_hours=30)
    expected = sum(w.expected_connections for w in weddings)
    assert expected > 150
    (gap,) = quota_budget.shortfalls(hours=48)
    assert gap.supplier_name == "Lens & Light"
    assert gap.expected == expected and gap.overlapping == 3 and gap.max_connections == 150
    assert f"expect {expected} connections" in gap.text() and "quota is 150" in gap.text()
    assert gap.suggested_max >= expected
    assert quota_budget.shortfalls(hours=24) == []  # the busy day is 30 h away
    Supplier.objects.filter(pk=busy_supplier.pk).update(max_connections=expected)
    assert quota_budget.shortfalls(hours=48) == []


@pytest.mark.django_db
def test_peak_is_the_overlap_not_the_day(busy_supplier, venue):
    early = make_weddings(venue, busy_supplier, starts_in_hours=10, n=1)
    late = make_weddings(venue, busy_supplier, starts_in_hours=20, n=1)
    Supplier.objects.filter(pk=busy_supplier.pk).update(
        max_connections=max(early[0].expected_connections, late[0].expected_connections)
    )
    assert quota_budget.shortfalls(hours=48) == []  # never at the same time


@pytest.mark.django_db
def test_supplier_is_told_48h_then_2h_ahead_once_each(busy_supplier, venue, receiver):
    make_weddings(venue, busy_supplier, starts_in_hours=30)
    assert quota_budget.warn_suppliers() == 2  # email and webhook
    assert quota_budget.warn_suppliers() == 0  # claimed: never twice
    notices = Notification.objects.filter(kind="quota")
    assert {n.channel_kind for n in notices} == {"email", "webhook"}
    assert all(":48h:" in n.key for n in notices)
    for n in notices:
        assert notify.deliver(n.pk) == "sent"
    body = receiver.requests[0]["json"]
    assert body["event"] == "quota_budget" and body["stage"] == "48h"
    assert body["max_connections"] == 150 and body["overlapping"] == 3
    later = timezone.now() + timedelta(hours=29.2)  # the peak (third start) is 30 h 40 min away
    assert quota_budget.warn_suppliers(now=later) == 2
    assert Notification.objects.filter(kind="quota", key__contains=":2h:").count() == 2


@pytest.mark.django_db
def test_quota_budget_api(operator_api, busy_supplier, venue):
    make_weddings(venue, busy_supplier, starts_in_hours=30)
    body = operator_api.get("/api/v1/quota-budget/").json()
    assert body["count"] == 1 and body["results"][0]["supplier_name"] == "Lens & Light"
    assert operator_api.get("/api/v1/quota-budget/?hours=0").status_code == 400
    assert operator_api.get("/api/v1/quota-budget/?hours=soon").status_code == 400


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_raises_the_quota_from_the_dashboard(page, daphne, make_user, venue, receiver):
    from apps.dashboards.wedding_day import ensure_wedding_day

    ensure_wedding_day()
    supplier = Supplier.objects.create(name="Lens & Light", max_connections=150)
    weddings = make_weddings(venue, supplier, starts_in_hours=30)
    make_user("ada-admin", "admin")
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, daphne.url, "ada-admin")
    page.goto(f"{daphne.url}/dashboards/wedding-day/")
    item = page.locator(f"#quota-list li[data-supplier='{supplier.pk}']")
    expected = sum(w.expected_connections for w in weddings)
    expect(item).to_contain_text(f"{expected} expected vs quota 150 (3 overlapping wedding(s)")
    page.locator("#quota-budget").scroll_into_view_if_needed()
    page.screenshot(path="docs/img/quota-budget.png")
    item.locator("button[data-raise]").click()
    expect(page.locator("#quota-budget")).to_be_hidden()
    supplier.refresh_from_db()
    assert supplier.max_connections >= expected
