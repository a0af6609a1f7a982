"""Fixtures of the alerts tests: a clean window store, rule and channel factories, a local
webhook receiver that can be told to fail."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture(autouse=True)
def clean_windows():
    from apps.alerts import caches
    from apps.alerts.windows import store

    store().clear()
    caches.forget()
    yield
    store().clear()
    caches.forget()


@pytest.fixture
def make_rule(db):
    from apps.alerts.models import AlertRule

    def make(**fields):
        defaults = dict(
            name=f"rule-{AlertRule.objects.count() + 1}",
            metric="wedsync_gateway_latency_ms",
            aggregation="last",
            window_seconds=60,
            comparator="gt",
            threshold=100.0,
        )
        defaults.update(fields)
        return AlertRule.objects.create(**defaults)

    return make


class Receiver:
    """A local HTTP server standing in for a remote webhook: records requests, fails the first
    `fail_first` of them with 503."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_first = 0
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": json.loads(body),
                    }
                )
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(503 if failing else 200)
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")
                if not failing:
                    receiver.event.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def venue(db):
    from apps.weddings.models import Region, Venue

    region, _ = Region.objects.get_or_create(
        code="uk-south", defaults={"name": "UK South", "timezone": "Europe/London"}
    )
    return Venue.objects.create(
        name="St Mary's Church", venue_type="church", region=region, timezone="Europe/London"
    )


@pytest.fixture
def live_wedding(venue):
    """A wedding whose ceremony was an hour ago and whose reception ends in three hours."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.weddings.models import Wedding

    local_now = timezone.now().astimezone(venue.tz)
    start = local_now - timedelta(hours=1)
    end = local_now + timedelta(hours=3)
    return Wedding.objects.create(
        date=start.date(),
        ceremony_time=start.time().replace(microsecond=0),
        reception_end_time=end.time().replace(microsecond=0),
        venue=venue,
        couple_name="Ada & Grace",
        status="confirmed",
    )


@pytest.fixture
def two_live_weddings(venue, live_wedding):
    """Two live weddings: Ada & Grace at St Mary's Church (London), Bea & Cy at a ballroom
    whose name has a comma, in another region. Returns (ada, bea, ballroom)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.weddings.models import Region, Venue, Wedding

    region = Region.objects.create(code="us-west", name="US West", timezone="America/Los_Angeles")
    ballroom = Venue.objects.create(
        name="Grand Ballroom, San Diego",
        venue_type="banquet_hall",
        region=region,
        timezone="America/Los_Angeles",
    )
    local = timezone.now().astimezone(ballroom.tz)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    bea = Wedding.objects.create(
        date=start.date(),
        ceremony_time=start.time().replace(microsecond=0),
        reception_end_time=end.time().replace(microsecond=0),
        venue=ballroom,
        couple_name="Bea & Cy",
        status="confirmed",
    )
    return live_wedding, bea, ballroom
