"""End to end across processes: a real Daphne pushes alert transitions to /ws/ops/, a real
Celery worker escalates and delivers to a local webhook that fails first."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.test import Client

from apps.alerts import engine
from apps.alerts.models import (
    Alert,
    EscalationLevel,
    EscalationPolicy,
    Notification,
    NotificationChannel,
)


def ops_socket_args(server, user) -> tuple[str, dict]:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return f"{server.ws_url}/ws/ops/", {
        "additional_headers": {"Cookie": cookie},
        "origin": server.url,
    }


async def next_alert_event(ws, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if frame.get("op") == "alert":
            return frame["alert"]


@pytest.mark.django_db(transaction=True)
def test_transitions_are_pushed_to_open_ops_pages(daphne, make_user, make_rule):
    user = make_user("pushwatcher", "operator")
    rule = make_rule(threshold=250, name="p99 latency")
    url, kwargs = ops_socket_args(daphne, user)

    async def scenario():
        async with websockets.connect(url, **kwargs) as ws:
            hello = json.loads(await ws.recv())
            assert hello["op"] == "hello"
            now = time.time()
            await asyncio.to_thread(
                engine.on_samples, [(rule.metric, {"quantile": "p99"}, now, 400.0)], now
            )
            firing = await next_alert_event(ws)
            await asyncio.to_thread(
                engine.on_samples, [(rule.metric, {"quantile": "p99"}, now + 1, 100.0)], now + 1
            )
            resolved = await next_alert_event(ws)
            return firing, resolved

    firing, resolved = asyncio.run(scenario())
    assert firing["rule_name"] == "p99 latency" and firing["state"] == "firing"
    assert firing["value"] == 400.0 and firing["labels"] == {"quantile": "p99"}
    assert resolved["state"] == "resolved" and resolved["id"] == firing["id"]


@pytest.mark.django_db(transaction=True)
def test_worker_escalates_and_retries_the_webhook_until_it_answers(
    start_celery_worker, make_rule, receiver
):
    start_celery_worker({"ALERTS_WEBHOOK_BACKOFF_SECONDS": "0.3"}, name="alerts-esc@%h")
    receiver.fail_first = 1
    hook = NotificationChannel.objects.create(
        name="pager", kind="webhook", target=receiver.url, secret="k"
    )
    policy = EscalationPolicy.objects.create(name="now")
    EscalationLevel.objects.create(policy=policy, delay_seconds=0).channels.set([hook])
    rule = make_rule(threshold=250, escalation_policy=policy, severity="critical")
    now = time.time()
    engine.on_samples([(rule.metric, {"quantile": "p99"}, now, 900.0)], now=now)
    assert receiver.event.wait(20), "webhook never delivered"
    notice = Notification.objects.get(alert__rule=rule)
    deadline = time.monotonic() + 5
    while notice.status != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
        notice.refresh_from_db()
    assert notice.status == "sent" and notice.attempts == 2
    assert len(receiver.requests) == 2
    body = receiver.requests[-1]["json"]
    assert body["event"] == "firing" and body["alert"]["severity"] == "critical"
    # resolution: the worker sends the resolved notice to the same webhook
    receiver.event.clear()
    engine.on_samples([(rule.metric, {"quantile": "p99"}, now + 1, 10.0)], now=now + 1)
    assert receiver.event.wait(20), "resolved notice never delivered"
    assert receiver.requests[-1]["json"]["event"] == "resolved"
    assert Alert.objects.get(rule=rule).state == "resolved"


@pytest.mark.django_db(transaction=True)
def test_an_ingest_request_that_crosses_a_threshold_fires_and_pushes(daphne, make_user, make_rule):
    """The real path: POST /api/v1/metrics/ on Daphne → samples_ingested → evaluation →
    alert firing in the database and pushed on /ws/ops/."""
    from rest_framework.authtoken.models import Token

    user = make_user("ingester", "admin")
    token = Token.objects.create(user=user).key
    rule = make_rule(
        threshold=250, name="ingest-crossing", metric="wedsync_gateway_error_rate", comparator="gte"
    )
    url, kwargs = ops_socket_args(daphne, user)

    def post(value):
        import urllib.request

        body = json.dumps(
            {"samples": [{"name": rule.metric, "labels": {"pod": "gw-1"}, "value": value}]}
        ).encode()
        request = urllib.request.Request(f"{daphne.url}/api/v1/metrics/", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Token {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    async def scenario():
        async with websockets.connect(url, **kwargs) as ws:
            await ws.recv()  # hello
            assert await asyncio.to_thread(post, 100.0) == 202
            assert await asyncio.to_thread(post, 250.0) == 202
            return await next_alert_event(ws)

    event = asyncio.run(scenario())
    assert event["rule_name"] == "ingest-crossing" and event["state"] == "firing"
    assert event["value"] == 250.0 and event["labels"] == {"pod": "gw-1"}
    assert Alert.objects.get(rule=rule).state == "firing"


def test_the_periodic_job_is_registered_for_beat():
    from apps.core.periodic import jobs
    from wedsync_ops.celery import app

    job = next(j for j in jobs() if j.name == "alerts-periodic-pass")
    assert job.task == "alerts.periodic_pass" and job.task in app.tasks
    assert job.every_seconds <= 5


@pytest.mark.django_db(transaction=True)
def test_the_sweep_delivers_what_was_claimed_but_never_enqueued(start_celery_worker, receiver):
    """A worker died between claiming a notice and enqueuing it: the periodic pass finds the
    pending row and a worker delivers it, once."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts import notify
    from apps.alerts.tasks import periodic_pass

    start_celery_worker(name="alerts-sweep@%h")
    n = notify.claim(
        "test:orphan",
        kind="firing",
        channel_kind="webhook",
        target=receiver.url,
        subject="orphan",
        payload={"text": "orphan"},
    )
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    periodic_pass()
    assert receiver.event.wait(20), "the sweep never delivered the orphan"
    time.sleep(0.5)
    periodic_pass()  # nothing pending any more: nothing sent again
    time.sleep(1.0)
    assert len(receiver.requests) == 1
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 1
