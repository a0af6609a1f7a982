"""Debian's Prometheus, scraping itself every second and remote-writing to a Daphne."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

import orjson
import pytest

from tests.conftest import Proc, _spawn, free_port, wait_for_http

PROMETHEUS = "/usr/bin/prometheus"


def ingester_token(username: str = "prom-remote-writer") -> str:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from apps.monitoring.permissions import INGESTERS

    user, _ = User.objects.get_or_create(username=username)
    user.groups.add(Group.objects.get_or_create(name=INGESTERS)[0])
    return Token.objects.get_or_create(user=user)[0].key


def operator_token(username: str = "grafana-reader") -> str:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    user, _ = User.objects.get_or_create(username=username)
    user.groups.add(Group.objects.get_or_create(name="operators")[0])
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def start_prometheus(tmp_path) -> Iterator[Callable[..., Proc]]:
    """Factory: Prometheus with the given extra config (YAML text after scrape_configs)."""
    started: list[Proc] = []

    def start(config_tail: str, rules: str | None = None) -> Proc:
        port = free_port()
        rule_files = ""
        if rules is not None:
            (tmp_path / "rules.yml").write_text(rules)
            rule_files = f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        config = (
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"{rule_files}"
            "scrape_configs:\n"
            f"  - job_name: prometheus\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            f"{config_tail}"
        )
        (tmp_path / "prometheus.yml").write_text(config)
        args = [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
            # Alerts evaluated before the Alertmanager list is discovered are dropped and
            # only re-sent after this delay (default 1 min).
            "--rules.alert.resend-delay=2s",
        ]
        proc, log = _spawn(args, {}, f"prometheus-{port}")
        server = Proc(proc=proc, log=log, port=port)
        started.append(server)
        try:
            wait_for_http(f"{server.url}/-/ready", proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- prometheus log ---\n{server.output()[-3000:]}") from exc
        return server

    yield start
    for server in started:
        server.stop()


def remote_write_config(base_url: str, token: str) -> str:
    return (
        "remote_write:\n"
        f"  - url: {base_url}/prometheus/api/v1/write\n"
        f"    authorization: {{credentials: {token}}}\n"
        "    queue_config: {batch_send_deadline: 1s, max_samples_per_send: 2000, "
        "min_backoff: 100ms}\n"
    )


def scalar_metrics(url: str) -> dict[str, float]:
    """A Prometheus /metrics page as {series text: value}."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][^ ]*) ([^ ]+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def get_json(url: str, params: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(f"{url}?{urllib.parse.urlencode(params)}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return orjson.loads(response.read())


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
