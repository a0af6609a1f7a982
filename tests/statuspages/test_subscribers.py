"""Subscribers: email double opt-in, RFC 8058 one-click unsubscribe, answers that never tell
whether an address is subscribed, webhooks to a local HTTP server, and batching: at most one
message per subscriber per minute."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from apps.alerts import emergencies
from apps.statuspages import incidents, notify
from apps.statuspages.models import Delivery, Subscriber

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_eager"),
]


@pytest.fixture
def _eager(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from wedsync_ops.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _subscribe(world, email: str, ip: str = "192.0.2.1"):
    return Client(REMOTE_ADDR=ip).post(f"/status/{world.token}/subscribe/", {"email": email})


def _confirm(django_capture_on_commit_callbacks, world, email: str) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert _subscribe(world, email).status_code == 202
    message = mail.outbox[-1]
    assert message.to == [email]
    link = re.search(r"http\S+/status/confirm/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    # Opening the link (a mail scanner would) does not confirm; pressing the button does.
    assert client.get("/" + path).status_code == 200
    assert Subscriber.objects.get(target=email).confirmed_at is None
    assert b"subscribed" in client.post("/" + path).content
    assert Subscriber.objects.get(target=email).confirmed_at is not None


def test_double_opt_in_then_news_then_one_click_unsubscribe(
    world, django_capture_on_commit_callbacks
):
    email = "planner@example.com"
    _confirm(django_capture_on_commit_callbacks, world, email)
    mail.outbox.clear()
    incident = emergencies.trigger("venue_network_failure", wedding=world.wedding, reason="x")
    notify.scan()
    assert notify.send_due() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Incident opened: Venue network problem" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http") and "/status/unsubscribe/" in unsubscribe
    # RFC 8058: the mail client POSTs this body to the URL, with no cookie and no form token.
    path = "/" + unsubscribe.split("://", 1)[1].split("/", 1)[1]
    answer = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert not Subscriber.objects.filter(target=email).exists()
    incidents.post_update(incident, "monitoring", "Router replaced.")
    notify.scan()
    assert notify.send_due() == 0


def test_the_form_answers_the_same_whether_or_not_the_address_is_subscribed(
    world, django_capture_on_commit_callbacks
):
    _confirm(django_capture_on_commit_callbacks, world, "known@example.com")
    mail.outbox.clear()
    known = _subscribe(world, "known@example.com")
    unknown = _subscribe(world, "new@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    bad = _subscribe(world, "not an address")
    assert bad.status_code == 400 and b"email" in bad.content
    # Repeating the form does not mail-bomb an address.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            _subscribe(world, "victim@example.com")
    assert [m.to for m in mail.outbox].count(["victim@example.com"]) == 1
    # The unsubscribe answer does not tell either.
    a = Client().post("/status/unsubscribe/garbage/")
    assert a.status_code == 200 and b"Unsubscribed" in a.content


def test_changes_are_batched_at_most_one_message_a_minute(
    world, django_capture_on_commit_callbacks
):
    _confirm(django_capture_on_commit_callbacks, world, "photo@example.com")
    mail.outbox.clear()
    t0 = timezone.now()
    incident = emergencies.trigger("latency_spike", wedding=world.wedding, reason="slow")
    incidents.post_update(incident, "identified", "Extra capacity on its way.")
    notify.scan(now=t0)
    assert notify.send_due(now=t0) == 1
    assert "Incident opened" in mail.outbox[0].body
    incidents.post_update(incident, "monitoring", "Capacity added; watching.")
    emergencies.resolve(incident.pk)
    notify.scan(now=t0 + dt.timedelta(seconds=20))
    assert notify.send_due(now=t0 + dt.timedelta(seconds=30)) == 0  # within the minute
    assert len(mail.outbox) == 1
    assert notify.send_due(now=t0 + dt.timedelta(seconds=61)) == 1
    assert len(mail.outbox) == 2
    assert "Incident resolved" in mail.outbox[1].body
    assert "(1 update)" in mail.outbox[1].subject or "updates" in mail.outbox[1].subject
    sent = Delivery.objects.filter(kind="changes", status="sent").count()
    assert sent == 2


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()


def test_operator_adds_a_webhook_that_gets_signed_batches(operator_api, world, receiver):
    url, received = receiver
    answer = operator_api.post(
        f"/api/v1/weddings/{world.wedding.pk}/status-page/subscribers/", {"url": url}
    )
    assert answer.status_code == 201
    secret = answer.json()["secret"]
    bad = operator_api.post(
        f"/api/v1/weddings/{world.wedding.pk}/status-page/subscribers/", {"url": "ftp://x"}
    )
    assert bad.status_code == 400 and "url" in bad.json()
    emergencies.trigger("venue_network_failure", wedding=world.wedding, reason="x")
    notify.scan()
    assert notify.send_due() == 1
    headers, body = received[0]
    stamp = headers["x-wedsync-timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert headers["x-wedsync-signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(body)
    kinds = [c["kind"] for c in payload["changes"]]
    assert "incident_opened" in kinds and "component" in kinds
    assert payload["summary"]["incidents"]
    overview = operator_api.get(f"/api/v1/weddings/{world.wedding.pk}/status-page/").json()
    assert overview["subscribers"][0]["target"] == url
    assert overview["sent"][0]["status"] == "sent"


@override_settings(STATUSPAGES={"MISSES_PER_MINUTE": 3})
def test_bad_confirmation_links_count_as_misses(world):
    client = Client(REMOTE_ADDR="203.0.113.50")
    codes = [client.post(f"/status/confirm/forged-{i}/").status_code for i in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
