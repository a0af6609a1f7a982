"""Debian's Prometheus with an alerting rule and `alertmanagers` pointed at us: the alert
fires here, escalates to an Alertmanager-style webhook, and resolves when the rule stops."""

from __future__ import annotations

import time

import pytest

from tests.alerts.conftest import Receiver
from tests.prometheus.conftest import ingester_token, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_prometheus_alert_fires_escalates_and_resolves_here(
    daphne, celery_worker, start_prometheus
):
    from apps.alerts.models import (
        Alert,
        AlertRoute,
        EscalationLevel,
        EscalationPolicy,
        NotificationChannel,
    )

    receiver = Receiver()
    try:
        channel = NotificationChannel.objects.create(
            name="oncall-am", kind="alertmanager", target=receiver.url
        )
        policy = EscalationPolicy.objects.create(name="prometheus-oncall")
        level = EscalationLevel.objects.create(policy=policy, order=0, delay_seconds=0)
        level.channels.add(channel)
        AlertRoute.objects.create(
            name="from-prometheus", matchers={"team": "ops"}, escalation_policy=policy
        )
        token = ingester_token()
        # True for the first 30 s after the rule file is written, then false: "the rule goes".
        until = int(time.time()) + 30
        rules = (
            "groups:\n  - name: wedsync\n    rules:\n"
            "      - alert: WedsyncDemoAlert\n"
            f"        expr: vector(time()) < {until}\n"
            "        labels: {severity: critical, team: ops}\n"
            "        annotations: {summary: 'demo alert from Prometheus'}\n"
        )
        host = daphne.url.removeprefix("http://")
        alerting = (
            "alerting:\n  alertmanagers:\n"
            "    - path_prefix: /alertmanager\n"
            f"      authorization: {{credentials: {token}}}\n"
            f"      static_configs: [{{targets: ['{host}']}}]\n"
        )
        prometheus = start_prometheus(alerting, rules=rules)

        def alert_state() -> str | None:
            row = Alert.objects.filter(rule__name="WedsyncDemoAlert").first()
            return row.state if row else None

        try:
            wait_until(lambda: alert_state() == "firing", 30, "the alert to fire here")
        except AssertionError:
            raise AssertionError(prometheus.output()[-3000:] + daphne.output()[-3000:]) from None
        alert = Alert.objects.get(rule__name="WedsyncDemoAlert")
        assert alert.labels == {"severity": "critical", "team": "ops"}
        assert alert.escalation["name"] == "prometheus-oncall"
        wait_until(lambda: len(receiver.requests) >= 1, 30, "the escalation's webhook")
        first = receiver.requests[0]["json"]
        assert first["version"] == "4" and first["status"] == "firing"
        assert first["alerts"][0]["labels"]["alertname"] == "WedsyncDemoAlert"
        assert first["alerts"][0]["annotations"]["summary"] == "demo alert from Prometheus"
        assert "/graph?" in first["alerts"][0]["generatorURL"]  # Prometheus's own link

        wait_until(lambda: alert_state() == "resolved", 60, "the alert to resolve here")
        wait_until(
            lambda: any(r["json"]["status"] == "resolved" for r in receiver.requests),
            30,
            "the resolved webhook",
        )
        assert prometheus.proc.poll() is None
        assert Alert.objects.filter(rule__name="WedsyncDemoAlert").count() == 1
    finally:
        receiver.close()
