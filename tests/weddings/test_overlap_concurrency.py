"""The overlap rule under real concurrency: two requests at once to a real Daphne + PostgreSQL."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import date, time

import pytest
from django.db import IntegrityError, transaction

from apps.weddings.models import Wedding


def post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_venue_one_wins(daphne, make_user, make_venue):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("booker", "admin")).key
    rounds = 6
    venues = [make_venue("historic") for _ in range(rounds)]
    results: list[list[tuple[int, dict]]] = []
    for venue in venues:
        barrier = threading.Barrier(2)
        out: list[tuple[int, dict]] = []

        def book(couple, start, end, venue_id=venue.pk, barrier=barrier, out=out) -> None:
            body = {
                "date": "2027-06-12",
                "ceremony_time": start,
                "reception_end_time": end,
                "venue": venue_id,
                "couple_name": couple,
            }
            barrier.wait()
            out.append(post(f"{daphne.url}/api/v1/weddings/", token, body))

        threads = [
            threading.Thread(target=book, args=("First", "14:00", "22:00")),
            threading.Thread(target=book, args=("Second", "18:00", "01:00")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        results.append(sorted(out, key=lambda r: r[0]))
    for (ok_status, ok_body), (bad_status, bad_body) in results:
        assert ok_status == 201, ok_body
        assert bad_status == 400, bad_body
        assert list(bad_body) == ["venue"]
        assert (
            "cannot hold two weddings" in bad_body["venue"][0]
            or "concurrent" in (bad_body["venue"][0])
        )
    for venue in venues:
        assert Wedding.objects.filter(venue=venue).count() == 1


@pytest.mark.django_db(transaction=True)
def test_database_refuses_an_overlap_that_skips_the_write_path(make_venue, make_wedding):
    """The exclusion constraint holds even for a writer that bypasses services.save_wedding."""
    venue = make_venue()
    first = make_wedding(venue=venue, day=date(2027, 6, 12), start=time(15), end=time(23))
    clash = Wedding(
        venue=venue,
        date=date(2027, 6, 12),
        ceremony_time=time(20),
        reception_end_time=time(2),
        couple_name="Sneaky",
    )
    clash.compute_instants()
    with pytest.raises(IntegrityError, match="wedding_venue_no_overlap"):
        with transaction.atomic():
            Wedding.objects.bulk_create([clash])
    # Cancelled weddings do not hold the venue, in the database either.
    first.status = "cancelled"
    first.save()
    Wedding.objects.bulk_create([clash])
    assert Wedding.objects.filter(venue=venue).count() == 2
