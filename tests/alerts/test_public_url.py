"""Issue 15: links in notifications lead to the console. The full stack in production
refuses to start without ALERTS_PUBLIC_URL; otherwise links use the server's own PORT."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.request

from tests.conftest import ROOT, free_port


def test_the_full_stack_with_debug_off_refuses_to_start_without_a_public_url():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wedsync",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DJANGO_SETTINGS_MODULE": "wedsync_ops.settings",
    }
    setup = [sys.executable, "-c", "import django; django.setup()"]
    result = subprocess.run(setup, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ALERTS_PUBLIC_URL must be set" in result.stderr
    env["ALERTS_PUBLIC_URL"] = "https://ops.example.com"
    ok = subprocess.run(setup, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr[-2000:]


SETUP = """
import json
from rest_framework.authtoken.models import Token
from django.contrib.auth.models import Group, User
from apps.weddings.models import EmergencyContact, Region, Venue
user = User.objects.create_user("oncall-op", password="x" * 20)
user.groups.add(Group.objects.get_or_create(name="operators")[0])
region = Region.objects.create(code="uk-south", name="UK South", timezone="Europe/London")
venue = Venue.objects.create(name="St Anne's", venue_type="church", region=region,
                             timezone="Europe/London")
EmergencyContact.objects.create(name="Planner", webhook_url="{hook}")
print(json.dumps({{"token": Token.objects.create(user=user).key, "venue": venue.pk}}))
"""


def test_an_emergency_notice_links_to_this_servers_own_port(
    start_daphne, tmp_path, service_env, receiver
):
    port = free_port()
    env = {
        **service_env,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "WEDSYNC_VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "DEBUG": "true",  # the embedded default, as `make run` starts it
    }
    env["ALERTS_PUBLIC_URL"] = ""  # unset (scripts/test.sh exports one for the full stack)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=240)
    out = subprocess.run(
        [*manage, "shell", "-c", SETUP.format(hook=receiver.url)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    made = json.loads(out.strip().splitlines()[-1])
    keys = ("DATABASE_URL", "REDIS_URL", "WEDSYNC_VAR_DIR", "PORT", "DEBUG", "ALERTS_PUBLIC_URL")
    server = start_daphne({k: env[k] for k in keys}, port=port)

    request = urllib.request.Request(
        f"{server.url}/api/v1/incidents/",
        data=json.dumps(
            {"emergency_type": "latency_spike", "venue": made["venue"], "reason": "slow"}
        ).encode(),
        headers={"Authorization": f"Token {made['token']}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    assert receiver.event.wait(15), "the webhook contact was not notified"
    text = receiver.requests[0]["json"]["text"]
    link = next(line for line in text.splitlines() if line.startswith("http"))
    assert link.startswith(f"http://127.0.0.1:{port}/alerts/incidents/#incident-"), text
    with urllib.request.urlopen(link, timeout=10) as page:  # a live link (the login page)
        assert page.status == 200
