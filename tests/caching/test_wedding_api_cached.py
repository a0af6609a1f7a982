"""The wedding detail API reads through the cache and never serves a stale wedding."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.caching import bundles
from apps.caching.service import cache

pytestmark = pytest.mark.django_db(transaction=True)


def test_detail_is_cached_and_invalidated_by_api_writes(admin_api, calendar):
    wedding = calendar(name="Cached Couple")
    url = f"/api/v1/weddings/{wedding.id}/"
    first = admin_api.get(url)
    assert first.status_code == 200 and first.json()["couple_name"] == "Cached Couple"
    assert cache.peek(bundles.detail_key(wedding.id)) is not None
    with CaptureQueriesContext(connection) as queries:
        again = admin_api.get(url)
    assert again.json() == first.json()
    assert not [q for q in queries.captured_queries if "weddings_wedding" in q["sql"]]

    response = admin_api.patch(url, {"couple_name": "Renamed Couple"}, format="json")
    assert response.status_code == 200, response.content
    assert admin_api.get(url).json()["couple_name"] == "Renamed Couple"

    venue = wedding.venue
    venue.name = "New Venue Name"
    venue.save()
    assert admin_api.get(url).json()["venue_name"] == "New Venue Name"


def test_detail_for_a_supplier_token_is_scoped_to_its_weddings(api_client, calendar):
    mine = calendar(suppliers=1)
    other = calendar(suppliers=1)
    token = mine.suppliers.get().issue_token()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(f"/api/v1/weddings/{mine.id}/").status_code == 200
    assert api_client.get(f"/api/v1/weddings/{other.id}/").status_code == 404
    assert api_client.get("/api/v1/weddings/999999999/").status_code == 404
    assert api_client.get("/api/v1/weddings/abc/").status_code == 404
    # Given the other wedding, the supplier sees it at once (the map is invalidated).
    other.suppliers.add(mine.suppliers.get())
    assert api_client.get(f"/api/v1/weddings/{other.id}/").status_code == 200


def test_unknown_wedding_is_404_and_not_cached(admin_api):
    assert admin_api.get("/api/v1/weddings/987654321/").status_code == 404
    assert cache.peek(bundles.detail_key(987654321)) is None
