"""Fault: the Celery worker is SIGKILLed in the middle of an escalation (while it is
sending the webhook notification); another worker takes over.

Expected: the notification is delivered, once: one completed delivery, one delivery
key, one notification row marked sent, nothing sent again afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import _spawn

pytestmark = [pytest.mark.fault]

WORKER_ENV = {
    # A task on a killed worker comes back after the visibility timeout...
    "CELERY_VISIBILITY_TIMEOUT": "5",
    # ...and a notification left "sending" by a dead worker is re-sent by the sweep.
    "ALERTS_STALE_SENDING_SECONDS": "3",
    "ALERTS_OUTBOX_GRACE_SECONDS": "2",
    "ALERTS_WEBHOOK_TIMEOUT_SECONDS": "60",
}


class HoldingReceiver:
    """A webhook that holds the first request open (so we can kill its sender mid-send)
    and answers 200 to the rest, recording each."""

    def __init__(self, hold_first: bool = True) -> None:
        self.hold_first = hold_first
        self.requests: list[dict] = []
        self.completed: list[dict] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                entry = {
                    "key": self.headers.get("X-WedSync-Delivery"),
                    "json": json.loads(body),
                    "at": time.monotonic(),
                }
                receiver.requests.append(entry)
                if receiver.hold_first and len(receiver.requests) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(60)
                    return  # the sender is dead: close without an answer
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
                receiver.completed.append(entry)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _worker(env: dict, name: str):
    args = [sys.executable, "-m", "celery", "-A", "wedsync_ops", "worker", "-l", "info"]
    args += ["-c", "1", "-n", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    return _spawn(args, env, name)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_escalation_notification_delivered_once(service_env, make_user):
    from apps.alerts import engine
    from apps.alerts.models import (
        AlertRule,
        EscalationLevel,
        EscalationPolicy,
        Notification,
        NotificationChannel,
    )

    receiver = HoldingReceiver()
    env = {**service_env, **WORKER_ENV}
    first, first_log = _worker(env, "doomed")
    second = None
    stop_beat = threading.Event()
    try:
        hook = NotificationChannel.objects.create(
            name="pager", kind="webhook", target=receiver.url, secret="k"
        )
        policy = EscalationPolicy.objects.create(name="page now")
        EscalationLevel.objects.create(policy=policy, order=0, delay_seconds=0).channels.set([hook])
        rule = AlertRule.objects.create(
            name="proof: celery kill",
            metric="proof_celery_kill_latency_ms",
            aggregation="last",
            window_seconds=60,
            comparator="gt",
            threshold=100.0,
            severity="critical",
            escalation_policy=policy,
        )
        now = time.time()
        engine.on_samples([(rule.metric, {}, now, 900.0)], now=now)

        assert receiver.first_arrived.wait(60), first_log.read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool child, mid-send
        first.wait(10)
        receiver.release.set()
        second, second_log = _worker(env, "takeover")

        def beat() -> None:
            # What celery beat does in the full stack: the alerts periodic pass every tick.
            from apps.alerts.tasks import periodic_pass

            while not stop_beat.wait(1.0):
                periodic_pass.delay()

        threading.Thread(target=beat, daemon=True).start()
        deadline = time.monotonic() + 60
        while not receiver.completed and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.completed, second_log.read_text()[-4000:]
        time.sleep(6)  # longer than a visibility timeout: nothing may be sent again
    finally:
        stop_beat.set()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
        receiver.close()

    firing = [r for r in receiver.requests if r["json"].get("event") == "firing"]
    assert len(receiver.completed) == 1, [
        (r["key"], r["json"].get("event")) for r in receiver.requests
    ]
    # The interrupted attempt and the completed one are the same notification (same key),
    # so a receiver that de-duplicates on X-WedSync-Delivery acts once.
    assert len({r["key"] for r in firing}) == 1
    rows = Notification.objects.filter(alert__rule=rule)
    assert rows.count() == 1
    assert rows.get().status == "sent"
