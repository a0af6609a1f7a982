"""Each actuator against the real thing: a Celery worker, a local HTTP server, /metrics."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apps.core.webhooks import sign
from apps.scaling import actuators, services
from apps.scaling.models import Decision, PoolState


class Receiver:
    """A local orchestrator: records requests, answers with the configured statuses."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                payload = json.dumps({"current_units": json.loads(body)["desired_units"]})
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/scale"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(statuses=()):
        r = Receiver(list(statuses))
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.SCALING_ACTUATOR_BACKOFF = 0.01


def webhook_policy(policy, url: str):
    policy.actuators = ["webhook", "gauges"]
    policy.webhook_url = url
    policy.webhook_secret = "s3cret-for-tests"
    policy.save()
    return policy


@pytest.mark.django_db
def test_webhook_is_signed_and_carries_the_decision(web_policy, receiver_factory):
    rx = receiver_factory()
    webhook_policy(web_policy, rx.url)
    d = services.actuate(services.decide_pool(web_policy, load=900))
    assert d.outcome == "applied"
    assert len(rx.requests) == 1
    req = rx.requests[0]
    body = json.loads(req["body"])
    assert body["desired_units"] == 12 and body["pool"] == "web" and body["decision_id"] == d.pk
    expected = sign("s3cret-for-tests", req["headers"]["X-WedSync-Timestamp"], req["body"])
    assert req["headers"]["X-WedSync-Signature"] == expected
    assert sign("wrong", req["headers"]["X-WedSync-Timestamp"], req["body"]) != expected
    assert d.actuation[0]["observed_units"] == 12


@pytest.mark.django_db
def test_a_failing_webhook_is_retried_then_succeeds(web_policy, receiver_factory):
    rx = receiver_factory([503, 500])
    webhook_policy(web_policy, rx.url)
    d = services.actuate(services.decide_pool(web_policy, load=900))
    assert d.outcome == "applied"
    assert d.actuation[0]["attempts"] == 3
    assert len(rx.requests) == 3


@pytest.mark.django_db
def test_a_webhook_that_keeps_failing_is_reported_and_nothing_is_claimed(
    web_policy, receiver_factory, client
):
    rx = receiver_factory([500, 500, 500, 500, 500, 500])
    webhook_policy(web_policy, rx.url)
    d = services.actuate(services.decide_pool(web_policy, load=900))
    assert d.outcome == "failed"
    assert "HTTP 500" in d.error
    assert PoolState.objects.get(pool="web").current_units == 2  # not pretended
    metrics = client.get("/metrics").content.decode()
    assert 'wedsync_desired_capacity{pool="web"} 12.0' in metrics
    assert 'wedsync_current_capacity{pool="web"} 2.0' in metrics
    # The next decision retries even if it wants the same units.
    rx.statuses = []
    again = services.actuate(services.decide_pool(web_policy, load=900))
    assert again.outcome == "applied" and PoolState.objects.get(pool="web").current_units == 12


@pytest.mark.django_db
def test_an_unreachable_webhook_is_reported(web_policy):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nobody listens
    webhook_policy(web_policy, f"http://127.0.0.1:{port}/scale")
    d = services.actuate(services.decide_pool(web_policy, load=900))
    assert d.outcome == "failed" and "unreachable" in d.error


@pytest.mark.django_db(transaction=True)
def test_celery_actuator_grows_and_shrinks_a_real_worker_pool(
    start_celery_worker, worker_policy, receiver_factory, settings
):
    host = f"scaling-act-{os.getpid()}@{socket.gethostname()}"  # ours alone
    start_celery_worker(name=host, concurrency=2)
    settings.SCALING_CELERY_DESTINATION = [host]
    # The fixture returns once *a* worker answers a task (the session's may be first);
    # wait until this one answers remote control too.
    deadline = time.monotonic() + 30
    while actuators.celery_pool_sizes([host]) != {host: 2} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert actuators.celery_pool_sizes([host]) == {host: 2}
    worker_policy.actuators = ["celery"]
    worker_policy.save()

    d = services.decide_pool(worker_policy, load=28)  # 28 msg/s at 10/unit, 75 % -> 4 units
    assert d.desired_units == 4
    d = services.actuate(d)
    assert d.outcome == "applied", d.error
    assert actuators.celery_pool_sizes([host]) == {host: 4}  # seen by the worker itself
    assert d.actuation[0]["observed_units"] == 4

    worker_policy.stabilisation_seconds = 0
    worker_policy.save()
    services.decide_pool(worker_policy, load=5)  # starts the (zero-length) window
    d = services.actuate(services.decide_pool(worker_policy, load=5))
    assert d.rule == "scale_down" and d.outcome == "applied", d.error
    assert actuators.celery_pool_sizes([host]) == {host: d.desired_units}


@pytest.mark.django_db(transaction=True)
def test_partial_actuation_is_reported_as_partial(worker_policy, receiver_factory, settings):
    rx = receiver_factory()
    settings.SCALING_CELERY_DESTINATION = ["nobody@nowhere"]
    worker_policy.actuators = ["webhook", "celery"]
    worker_policy.webhook_url = rx.url
    worker_policy.webhook_secret = "x" * 16
    worker_policy.save()
    settings.SCALING_ACTUATOR_ATTEMPTS = 2
    d = services.actuate(services.decide_pool(worker_policy, load=28))
    assert d.outcome == "partial"
    by_name = {a["actuator"]: a for a in d.actuation}
    assert by_name["webhook"]["ok"] and not by_name["celery"]["ok"]
    assert by_name["celery"]["attempts"] == 2
    assert "no Celery worker answered" in d.error
    assert Decision.objects.get(pk=d.pk).outcome == "partial"
    assert PoolState.objects.get(pool="worker").current_units == 2
