"""How one notification row is sent, by channel kind: a registry of small notifiers.

Each notifier sends or raises. `PermanentFailure` means retrying the same message cannot
help (a receiver refusing it with a 4xx, an email the SMTP server would not take);
anything else is retried with backoff by apps.alerts.notify until its attempts run out.
A new channel kind is a class here and one entry in NOTIFIERS.
"""

from __future__ import annotations

from typing import ClassVar

import orjson
from django.conf import settings
from django.core.mail import send_mail

from apps.alerts import conf
from apps.alerts.models import Notification
from apps.core.webhooks import WebhookError, post_json


class PermanentFailure(Exception):
    """Sending this notification again would fail the same way."""


class RetryableFailure(Exception):
    """Sending may succeed later (receiver away or overloaded, time-out)."""


class Notifier:
    kind: ClassVar[str]

    def send(self, n: Notification) -> None:
        raise NotImplementedError

    @staticmethod
    def post(n: Notification, body: bytes, headers: dict[str, str], secret: str = "") -> None:
        try:
            post_json(
                n.target,
                body,
                timeout=conf.WEBHOOK_TIMEOUT_SECONDS,
                secret=secret,
                headers=headers,
                user_agent="WedSync-Ops-Alerts/1",
                max_answer=1024,
            )
        except WebhookError as exc:
            raise (PermanentFailure if exc.permanent else RetryableFailure)(str(exc)) from exc


class EmailNotifier(Notifier):
    kind = "email"

    def send(self, n: Notification) -> None:
        text = n.payload.get("text") or n.subject
        try:
            send_mail(n.subject, text, settings.DEFAULT_FROM_EMAIL, [n.target])
        except Exception as exc:  # the mail server's refusal: not retried (a human reads it)
            raise PermanentFailure(f"{type(exc).__name__}: {exc}") from exc


class WebhookNotifier(Notifier):
    """Our own JSON payload, signed with the channel's secret when it has one."""

    kind = "webhook"

    def send(self, n: Notification) -> None:
        headers = {"X-WedSync-Delivery": n.key, "X-WedSync-Event": n.kind}
        self.post(n, orjson.dumps(n.payload), headers, secret=n.secret)


class SlackNotifier(Notifier):
    """A Slack incoming webhook: only the text."""

    kind = "slack"

    def send(self, n: Notification) -> None:
        self.post(n, orjson.dumps({"text": n.payload.get("text") or n.subject}), {})


class AlertmanagerNotifier(Notifier):
    """Alertmanager's webhook payload (version "4"), for receivers written for it."""

    kind = "alertmanager"

    def send(self, n: Notification) -> None:
        from apps.alerts.alertmanager_out import webhook_payload

        self.post(n, orjson.dumps(webhook_payload(n)), {})


NOTIFIERS: dict[str, Notifier] = {
    notifier.kind: notifier
    for notifier in (EmailNotifier(), WebhookNotifier(), SlackNotifier(), AlertmanagerNotifier())
}


def send(n: Notification) -> None:
    notifier = NOTIFIERS.get(n.channel_kind)
    if notifier is None:
        raise PermanentFailure(f"unknown channel kind {n.channel_kind!r}")
    notifier.send(n)
