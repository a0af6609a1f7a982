"""Fault: the Celery worker is SIGKILLed in the middle of an escalation (while it is
sending the webhook notification); another worker takes over.

Expected: the notification is delivered, once: one completed delivery, one delivery
key, one notification row marked sent, nothing sent again afterwards.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.conftest import _spawn, celery_worker_args
from tests.proof.webhooks import HoldingReceiver, rule_paging

pytestmark = [pytest.mark.fault]

WORKER_ENV = {
    # A task on a killed worker comes back after the visibility timeout...
    "CELERY_VISIBILITY_TIMEOUT": "5",
    # ...and a notification left "sending" by a dead worker is re-sent by the sweep.
    "ALERTS_STALE_SENDING_SECONDS": "3",
    "ALERTS_OUTBOX_GRACE_SECONDS": "2",
    "ALERTS_WEBHOOK_TIMEOUT_SECONDS": "60",
}


def _worker(env: dict, name: str):
    """A one-process worker of our own (not the managed fixture): this test SIGKILLs it."""
    return _spawn(celery_worker_args(f"{name}-{os.getpid()}@%h", 1), env, name)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_escalation_notification_delivered_once(service_env, make_user):
    from apps.alerts import engine
    from apps.alerts.models import Notification

    receiver = HoldingReceiver()
    env = {**service_env, **WORKER_ENV}
    first, first_log = _worker(env, "doomed")
    second = None
    stop_beat = threading.Event()
    try:
        rule = rule_paging(
            receiver.url,
            name="proof: celery kill",
            metric="proof_celery_kill_latency_ms",
            secret="k",
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
