"""Django admin: lists, filters, search, inlines, and the freeze on risky edits and deletes."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.weddings.models import FreezeOverride, Supplier, Wedding

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(superadmin) -> Client:
    client = Client()
    client.force_login(superadmin)
    return client


def supplier_form(supplier: Supplier, **over) -> dict:
    data = {
        "name": supplier.name,
        "kind": supplier.kind,
        "contact_email": "",
        "max_connections": supplier.max_connections,
        "max_messages_per_second": supplier.max_messages_per_second,
        "max_channels_per_connection": supplier.max_channels_per_connection,
        "is_active": "on" if supplier.is_active else "",
        "freeze_override_reason": "",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v != "" or k != "is_active"}


def test_changelists_filter_search_and_date_hierarchy(admin_client_, make_wedding, make_supplier):
    w = make_wedding(couple_name="Ada & Grace")
    w.suppliers.add(make_supplier("Lens & Light"))
    for url in (
        "/admin/weddings/wedding/?q=Lens",
        "/admin/weddings/wedding/?date__year=2027&date__month=6",
        "/admin/weddings/wedding/?venue__venue_type__exact=church&status__exact=planned",
        "/admin/weddings/supplier/?q=Lens",
        "/admin/weddings/venue/?venue_type__exact=church",
        "/admin/weddings/region/",
        f"/admin/weddings/region/{w.venue.region_id}/change/",
        "/admin/weddings/emergencycontact/",
        "/admin/weddings/freezeoverride/",
    ):
        response = admin_client_.get(url)
        assert response.status_code == 200, url
    html = admin_client_.get("/admin/weddings/wedding/?q=Lens").content.decode()
    assert "Ada &amp; Grace" in html
    change = admin_client_.get(f"/admin/weddings/wedding/{w.pk}/change/").content.decode()
    assert "Lens &amp; Light" in change and "guests ×" in change  # inline + derivation


def test_lowering_quota_in_admin_is_frozen_unless_reason(
    admin_client_, make_supplier, live_wedding
):
    supplier = make_supplier("Quota Co", max_connections=300)
    url = f"/admin/weddings/supplier/{supplier.pk}/change/"
    refused = admin_client_.post(url, supplier_form(supplier, max_connections=200))
    assert refused.status_code == 200
    assert "Live Couple" in refused.content.decode()
    supplier.refresh_from_db()
    assert supplier.max_connections == 300
    done = admin_client_.post(
        url, supplier_form(supplier, max_connections=200, freeze_override_reason="runaway app")
    )
    assert done.status_code == 302
    supplier.refresh_from_db()
    assert supplier.max_connections == 200
    assert FreezeOverride.objects.get().reason == "runaway app"


def test_deleting_during_freeze_needs_a_reason(admin_client_, make_supplier, live_wedding):
    supplier = make_supplier("Doomed")
    url = f"/admin/weddings/supplier/{supplier.pk}/delete/"
    page = admin_client_.get(url).content.decode()
    assert "Wedding-day freeze" in page and "freeze_override_reason" in page
    refused = admin_client_.post(url, {"post": "yes"}, follow=True)
    assert "Refused during the wedding-day freeze" in refused.content.decode()
    assert Supplier.objects.filter(pk=supplier.pk).exists()
    done = admin_client_.post(url, {"post": "yes", "freeze_override_reason": "duplicate"})
    assert done.status_code == 302
    assert not Supplier.objects.filter(pk=supplier.pk).exists()
    assert FreezeOverride.objects.get().action.startswith("delete supplier Doomed")
    # Bulk delete is not offered while live.
    changelist = admin_client_.get("/admin/weddings/supplier/").content.decode()
    assert "delete_selected" not in changelist


def test_add_wedding_with_inline_suppliers_updates_estimate(
    admin_client_, make_venue, make_supplier
):
    venue = make_venue("banquet_hall")
    a, b = make_supplier(), make_supplier()
    data = {
        "date": "2027-06-12",
        "ceremony_time": "15:00",
        "reception_end_time": "23:00",
        "venue": venue.pk,
        "couple_name": "Inline Pair",
        "expected_guests": 100,
        "status": "planned",
        "freeze_override_reason": "",
        "Wedding_suppliers-TOTAL_FORMS": "2",
        "Wedding_suppliers-INITIAL_FORMS": "0",
        "Wedding_suppliers-0-supplier": a.pk,
        "Wedding_suppliers-1-supplier": b.pk,
    }
    response = admin_client_.post("/admin/weddings/wedding/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    w = Wedding.objects.get(couple_name="Inline Pair")
    assert set(w.suppliers.all()) == {a, b}
    assert w.expected_connections == 43
    # An overlapping wedding is a form error on the venue.
    data.update(couple_name="Clash", ceremony_time="20:00", reception_end_time="01:00")
    clash = admin_client_.post("/admin/weddings/wedding/add/", data)
    assert clash.status_code == 200 and "cannot hold two weddings" in clash.content.decode()
    assert not Wedding.objects.filter(couple_name="Clash").exists()
