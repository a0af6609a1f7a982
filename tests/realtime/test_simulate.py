"""`manage.py simulate` drives real WebSocket clients and reports what they saw."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import ROOT
from tests.realtime.conftest import http, make_world


@pytest.mark.django_db(transaction=True)
def test_simulate_reports_connect_time_latency_and_errors(daphne):
    make_world("Sim studio", weddings=3)
    out = io.StringIO()

    def go():
        call_command(
            "simulate",
            clients=6,
            suppliers=1,
            rate=20,
            duration=4,
            ramp=0.5,
            url=daphne.ws_url,
            stdout=out,
        )

    with ThreadPoolExecutor(1) as pool:  # its own event loop, off Playwright's thread
        pool.submit(go).result()
    text = out.getvalue()
    assert "connect time" in text and "delivery latency" in text, text
    published = int(text.split("published ")[1].split(",")[0])
    received = int(text.split("received ")[1].split(" ")[0])
    assert published > 20
    # Six clients of the one supplier each get every message of its weddings.
    assert received >= published * 6 * 0.9, text
    assert "errors: none" in text, text


@pytest.mark.django_db
def test_simulate_refuses_nonsense_arguments():
    with pytest.raises(CommandError, match="--clients"):
        call_command("simulate", clients=0)
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate", clients=1, suppliers=1, duration=1)


EMBEDDED_SETUP = """
import datetime as dt, json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from apps.weddings.models import Region, Supplier, Venue, Wedding
region = Region.objects.create(code="r1", name="R1", timezone="UTC")
venue = Venue.objects.create(name="Hall", venue_type="banquet_hall", region=region, timezone="UTC")
supplier = Supplier.objects.create(name="Demo studio", max_connections=10)
token = supplier.issue_token()
weddings = []
for day in range(3):
    w = Wedding.objects.create(date=dt.date.today() + dt.timedelta(days=day + 1),
        ceremony_time=dt.time(14), reception_end_time=dt.time(22), venue=venue,
        couple_name=f"Couple {day}")
    w.suppliers.add(supplier)
    weddings.append(w.pk)
user = User.objects.create_user("op", password="x-long-password-1")
user.groups.add(Group.objects.get_or_create(name="operators")[0])
print(json.dumps({"supplier": supplier.pk, "token": token, "weddings": weddings,
                  "staff": Token.objects.create(user=user).key}))
"""


@pytest.mark.slow
def test_simulate_gives_the_embedded_demo_live_traffic_without_rotating_tokens(
    embedded_server, tmp_path
):
    """`make run`'s background traffic: the embedded server's channel layer is in its own
    memory, so the clients only receive what is published through the API; the wedding
    reads go through the server's cache; the tokens the user was given keep working."""
    server, data = embedded_server(EMBEDDED_SETUP)
    credentials = tmp_path / "demo-credentials.json"
    credentials.write_text(
        json.dumps({"suppliers": [{"id": data["supplier"], "token": data["token"]}]})
    )
    args = ["--clients", "3", "--suppliers", "1", "--rate", "10", "--duration", "5"]
    args += ["--ramp", "0.5", "--reads", "20", "--url", server.ws_url]
    done = subprocess.run(
        [sys.executable, "manage.py", "simulate", *args, "--credentials", str(credentials)],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "tokens from the credentials file" in text and "through the publish API" in text
    counts = re.search(
        r"^published (\d+), received (\d+) deliveries, (\d+) wedding reads", text, re.M
    )
    assert counts, text
    published, received, reads = map(int, counts.groups())
    assert published > 15, text
    assert received >= published * 3 * 0.9, text  # every client got its weddings' messages
    assert reads > 30, text
    assert "errors: none" in text, text
    # The supplier's token was not rotated, and the reads were served by the server's cache.
    status, body = http(f"{server.url}/api/v1/weddings/{data['weddings'][0]}/", data["token"])
    assert status == 200 and body["id"] == data["weddings"][0]
    status, stats = http(f"{server.url}/api/v1/cache/stats/", data["staff"])
    assert status == 200, stats
    assert stats["tiers"]["l1"]["hits"] > reads * 0.8, stats


def test_simulate_names_a_bad_credentials_file(tmp_path):
    bad = tmp_path / "creds.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not a seed_demo credentials file"):
        call_command("simulate", credentials=str(bad))
    with pytest.raises(CommandError, match="--url must start with ws://"):
        call_command("simulate", url="http://127.0.0.1:8000")
