"""Notifiers tell a refusal (4xx: sending again cannot help) from a failure that may pass
(5xx, 429, nobody listening): the first fails the row at once, the second is retried."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.alerts import notify
from apps.alerts.models import Notification
from apps.core.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


class Receiver:
    """A local webhook answering `status` and recording what it got."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": self.headers, "body": body})  # any case
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    r = Receiver(request.param)
    yield r
    r.close()


def _row(url: str, key: str, secret: str = "") -> Notification:
    return notify.claim(
        key,
        kind="firing",
        channel_kind="webhook",
        target=url,
        secret=secret,
        subject="[CRITICAL] test",
        payload={"text": "test"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("receiver", "status", "attempts"),
    [(400, "failed", 1), (410, "failed", 1), (503, "retrying", 1), (429, "retrying", 1)],
    indirect=["receiver"],
)
def test_refusal_fails_at_once_and_overload_is_retried(receiver, status, attempts, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the retry waits for the sweep, not a worker
    n = _row(receiver.url, f"t-{receiver.status}")
    assert notify.deliver(n.pk) == status
    n.refresh_from_db()
    assert (n.status, n.attempts) == (status, attempts)
    assert f"HTTP {receiver.status}" in n.error
    assert len(receiver.requests) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("receiver", [200], indirect=True)
def test_webhook_is_signed_with_the_channel_secret(receiver):
    n = _row(receiver.url, "signed", secret="s3cret")
    assert notify.deliver(n.pk) == "sent"
    got = receiver.requests[0]
    assert json.loads(got["body"]) == {"text": "test"}
    expected = sign("s3cret", got["headers"][TIMESTAMP_HEADER], got["body"])
    assert got["headers"][SIGNATURE_HEADER] == expected


@pytest.mark.django_db
def test_nobody_listening_is_retried(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    r = Receiver(200)
    url = r.url
    r.close()  # the port is closed now: connection refused
    n = _row(url, "refused")
    assert notify.deliver(n.pk) == "retrying"
