"""A webhook receiver and an alert rule that pages it: the alerting half of the fault and
scale-out tests (a real HTTP server; the product sends to it as it would to a pager)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


def rule_paging(url: str, *, name: str, metric: str, secret: str = "") -> object:
    """An AlertRule firing when `metric` > 100 (last value, 60 s window) whose escalation
    policy pages the webhook at `url` at once."""
    from apps.alerts.models import AlertRule, EscalationLevel, EscalationPolicy, NotificationChannel

    hook = NotificationChannel.objects.create(
        name="pager", kind="webhook", target=url, secret=secret
    )
    policy = EscalationPolicy.objects.create(name=f"page: {name}")
    EscalationLevel.objects.create(policy=policy, order=0, delay_seconds=0).channels.set([hook])
    return AlertRule.objects.create(
        name=name,
        metric=metric,
        aggregation="last",
        window_seconds=60,
        comparator="gt",
        threshold=100.0,
        severity="critical",
        escalation_policy=policy,
    )
